import { execFile } from 'node:child_process';
import { readdir, readFile, statfs } from 'node:fs/promises';
import { cpus, freemem, loadavg, networkInterfaces, platform, totalmem, uptime } from 'node:os';
import { performance } from 'node:perf_hooks';

import type * as SystemInformation from 'systeminformation';
import type { Systeminformation } from 'systeminformation';

import type { DiskMetrics, GpuInfo, GpuMetrics, MachineMetrics, NetworkMetrics } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';

/**
 * systeminformation, loaded on first use. On Linux the agent reads what it needs itself
 * (below), and needs it only to describe a PCI display controller: a Raspberry Pi or a
 * headless server never loads its ~50 modules (some 2 MB of the agent's memory).
 */
let siModule: typeof SystemInformation | undefined;
function si(): typeof SystemInformation {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  siModule ??= require('systeminformation') as typeof SystemInformation;
  return siModule;
}

const MB = 1024 * 1024;
/** Bounds on what one heartbeat carries. */
export const MAX_DISKS = 8;
export const MAX_INTERFACES = 8;
export const MAX_GPUS = 16;
/**
 * Disk layout and network interfaces are looked up again this often (USB disks, VPNs come and
 * go). Not more: elsewhere than on Linux, si.fsSize runs df.
 */
const LAYOUT_REFRESH_MS = 10 * 60 * 1000;
/** GPU discovery runs lspci and nvidia-smi once; past this it is given up on (the call may still finish). */
const GPU_DISCOVERY_TIMEOUT_MS = 15_000;
const STATE_DISK_FIRST_WAIT_MS = 5_000;

/** CPU time counters of one core, as `os.cpus()[i].times` gives them (milliseconds). */
export interface CpuTimes {
  user: number;
  nice: number;
  sys: number;
  idle: number;
  irq: number;
}

/** A GPU found at start: what capabilities show, and whether nvidia-smi can sample it live. */
export interface DiscoveredGpu {
  name: string;
  memoryMb?: number;
  nvidia: boolean;
}

export interface DiskLayout {
  mount: string;
  fsType?: string;
}

/** What choosing interfaces needs (systeminformation's NetworkInterfacesData has it, and more). */
export type NicInfo = Pick<Systeminformation.NetworkInterfacesData, 'iface' | 'internal' | 'operstate' | 'default'>;

export interface NetCounters {
  iface: string;
  rxBytes: number;
  txBytes: number;
}

/** Where the sampler reads from: systeminformation and Node by default, a fake in tests. */
export interface MetricsSource {
  /** Compute GPUs (once per process: it spawns lspci and nvidia-smi). */
  gpus(): Promise<DiscoveredGpu[]>;
  fsSize(): Promise<FsSize[]>;
  networkInterfaces(): Promise<NicInfo[]>;
  mem(): Promise<Pick<Systeminformation.MemData, 'total' | 'available'>>;
  cpuTimes(): CpuTimes[];
  loadavg(): number[] | undefined;
  uptime(): number;
  statfs(path: string): Promise<{ bsize: number; blocks: number; bfree: number; bavail: number }>;
  netCounters(ifaces: string[]): Promise<NetCounters[]>;
  /** `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total,name` output. */
  nvidiaSmi(timeoutMs: number): Promise<string | undefined>;
}

/** Runs a program (argument array, never a shell) and returns its output, or undefined if it is missing or fails. */
export type Probe = (program: string, args: string[], timeoutMs?: number) => Promise<string | undefined>;

/** A probe forked from this process (the agent probes through its task helper instead). */
export function probe(program: string, args: string[], timeoutMs = 5_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      program,
      args,
      { timeout: timeoutMs, windowsHide: true, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve(error ? undefined : (stdout || stderr).trim());
      },
    );
  });
}

/** `nvidia-smi --query-gpu=name,memory.total,utilization.gpu --format=csv,noheader,nounits` lines. */
export function parseNvidiaSmi(output: string): GpuInfo[] {
  return output
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const [name = '', memory, utilization] = line.split(',').map((s) => s.trim());
      return {
        name,
        memoryMb: Number(memory) || undefined,
        utilizationPercent: Number.isFinite(Number(utilization)) ? Number(utilization) : undefined,
      };
    });
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const clampPercent = (n: number) => round1(Math.min(100, Math.max(0, n)));

/** CPU busy % overall and per core between two readings of the counters (since boot without a previous one). */
export function cpuUsage(previous: CpuTimes[] | undefined, next: CpuTimes[]): { percent: number; cores: number[] } {
  const prev = previous?.length === next.length ? previous : undefined;
  let busyAll = 0;
  let totalAll = 0;
  const cores = next.map((t, i) => {
    const p = prev?.[i];
    const busy = t.user + t.nice + t.sys + t.irq - (p ? p.user + p.nice + p.sys + p.irq : 0);
    const total = busy + t.idle - (p ? p.idle : 0);
    busyAll += busy;
    totalAll += total;
    return total > 0 ? clampPercent((100 * busy) / total) : 0;
  });
  return { percent: totalAll > 0 ? clampPercent((100 * busyAll) / totalAll) : 0, cores };
}

const NVIDIA = /nvidia/i;
const AMD = /\b(amd|ati)\b|advanced micro devices/i;

/**
 * GPUs a task could compute on, from systeminformation's graphics controllers: NVIDIA cards
 * nvidia-smi answered for, and AMD cards with dedicated VRAM (1 GiB or more). Display-only
 * controllers (a server's BMC VGA, a Pi's VideoCore, an Intel iGPU) are left out, so the
 * `gpu` capability keeps meaning what it meant when it came from nvidia-smi alone.
 */
export function computeGpus(controllers: Systeminformation.GraphicsControllerData[]): DiscoveredGpu[] {
  const gpus: DiscoveredGpu[] = [];
  for (const c of controllers) {
    const vendor = `${c.vendor ?? ''} ${c.subVendor ?? ''}`;
    const nvidia =
      NVIDIA.test(vendor) && (c.memoryTotal !== undefined || c.utilizationGpu !== undefined || !!c.driverVersion);
    const amd = AMD.test(c.vendor ?? '') && !c.vramDynamic && (c.vram ?? 0) >= 1024;
    if (!nvidia && !amd) {
      continue;
    }
    const memoryMb = c.memoryTotal ?? c.vram ?? undefined;
    gpus.push({ name: (c.name || c.model || c.vendor).slice(0, 200), ...(memoryMb ? { memoryMb } : {}), nvidia });
  }
  return gpus.slice(0, MAX_GPUS);
}

/** The capabilities' view of discovered GPUs. */
export function gpuInfos(gpus: DiscoveredGpu[]): GpuInfo[] {
  return gpus.map((g) => ({ name: g.name, ...(g.memoryMb !== undefined ? { memoryMb: g.memoryMb } : {}) }));
}

const PSEUDO_FS =
  /^(tmpfs|devtmpfs|ramfs|overlay|overlayfs|squashfs|iso9660|udf|autofs|efivarfs|proc|sysfs|cgroup2?|nsfs|tracefs|devfs|fdescfs|map)$/i;
/** Network filesystems are left out: a hung server would hang statfs on every heartbeat. */
const NETWORK_FS = /^(nfs\d?|cifs|smbfs?|smb3|afpfs|webdav|9p|ceph|glusterfs|fuse\..*|fuse|sshfs)$/i;
const SYSTEM_MOUNT =
  /^\/(proc|sys|dev|run|snap|boot\/efi$|var\/lib\/(docker|containers|kubelet|snapd))(\/|$)|^\/System\/Volumes\/(VM|Preboot|Update|xarts|iSCPreboot|Hardware)$/;

/** What the disk layout needs of a mounted filesystem (systeminformation's FsSizeData has it, and more). */
export type FsSize = Pick<Systeminformation.FsSizeData, 'fs' | 'type' | 'mount' | 'size'>;

/** Not a local disk worth showing: pseudo, network (statfs could hang) or system mounts. */
const skippedMount = (type: string, mount: string) =>
  PSEUDO_FS.test(type) || NETWORK_FS.test(type) || SYSTEM_MOUNT.test(mount);

/** Local filesystems worth showing, from the mounted ones: one mount per device, root first, bounded. */
export function diskLayout(fsSizes: FsSize[]): DiskLayout[] {
  const byDevice = new Map<string, FsSize>();
  for (const d of fsSizes) {
    if (!d.mount || d.size <= 0 || skippedMount(d.type, d.mount)) {
      continue;
    }
    const seen = byDevice.get(d.fs);
    // a device mounted twice (bind mounts): keep its shortest mount point.
    if (!seen || d.mount.length < seen.mount.length) {
      byDevice.set(d.fs, d);
    }
  }
  return [...byDevice.values()]
    .sort((a, b) => (a.mount === '/' ? -1 : b.mount === '/' ? 1 : a.mount.localeCompare(b.mount)))
    .slice(0, MAX_DISKS)
    .map((d) => ({ mount: d.mount.slice(0, 255), ...(d.type ? { fsType: d.type.slice(0, 50) } : {}) }));
}

const PLUMBING_IFACE =
  /^(lo\d*|veth|docker\d*|br-|virbr|cni|flannel|cali|vxlan|lxc|lxd|podman|kube|cilium|weave|tunl|awdl|llw|utun|anpi|ap\d|gif|stf|bridge)/i;

/** Interfaces worth showing: not loopback, not container plumbing; default first. */
export function interfacesToWatch(ifaces: NicInfo[]): string[] {
  const names = ifaces
    .filter(
      (i) => !i.internal && i.operstate !== 'down' && /^[\w.:@-]{1,64}$/.test(i.iface) && !PLUMBING_IFACE.test(i.iface),
    )
    .sort((a, b) => Number(b.default) - Number(a.default) || a.iface.localeCompare(b.iface))
    .map((i) => i.iface);
  return [...new Set(names)].slice(0, MAX_INTERFACES);
}

/** Bytes per second per interface between two counter readings `seconds` apart; counters that went back (a reset) count from zero. */
export function networkRates(previous: NetCounters[], next: NetCounters[], seconds: number): NetworkMetrics[] {
  if (seconds <= 0) {
    return [];
  }
  const before = new Map(previous.map((c) => [c.iface, c]));
  const rates: NetworkMetrics[] = [];
  for (const c of next) {
    const p = before.get(c.iface);
    if (!p) {
      continue;
    }
    const rx = c.rxBytes >= p.rxBytes ? c.rxBytes - p.rxBytes : c.rxBytes;
    const tx = c.txBytes >= p.txBytes ? c.txBytes - p.txBytes : c.txBytes;
    rates.push({
      iface: c.iface,
      rxBytesPerSecond: Math.round(rx / seconds),
      txBytesPerSecond: Math.round(tx / seconds),
    });
  }
  return rates;
}

const numberOrUndefined = (s: string | undefined) => {
  const n = Number(s);
  return s !== undefined && s.trim() !== '' && Number.isFinite(n) && n >= 0 ? n : undefined;
};

/** Live GPU rows of `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total,name --format=csv,noheader,nounits`. */
export function parseNvidiaSmiLive(output: string): GpuMetrics[] {
  return output
    .split('\n')
    .filter((line) => line.trim())
    .slice(0, MAX_GPUS)
    .map((line) => {
      const [, utilization, used, total, ...name] = line.split(',').map((s) => s.trim());
      const utilizationPercent = numberOrUndefined(utilization);
      const memoryUsedMb = numberOrUndefined(used);
      const memoryTotalMb = numberOrUndefined(total);
      return {
        name: name.join(', ').slice(0, 200) || 'NVIDIA GPU',
        ...(utilizationPercent !== undefined ? { utilizationPercent: Math.min(100, utilizationPercent) } : {}),
        ...(memoryUsedMb !== undefined ? { memoryUsedMb } : {}),
        ...(memoryTotalMb !== undefined ? { memoryTotalMb } : {}),
      };
    });
}

let gpuDiscovery: Promise<DiscoveredGpu[]> | undefined;

/** Whether Linux lists a PCI display controller (class 0x03xxxx): without one, lspci has no GPU to show. */
async function hasPciDisplay(): Promise<boolean> {
  const devices = await readdir('/sys/bus/pci/devices').catch(() => undefined);
  if (!devices) {
    // no sysfs to tell: ask lspci
    return true;
  }
  const classes = await Promise.all(
    devices.map((d) => readFile(`/sys/bus/pci/devices/${d}/class`, 'utf8').catch(() => '')),
  );
  return classes.some((c) => c.startsWith('0x03'));
}

/** systeminformation's controllers; nvidia-smi alone where lspci is missing (a container with the NVIDIA runtime). */
async function discoverGpus(run: Probe): Promise<DiscoveredGpu[]> {
  const lookAtPci = platform() !== 'linux' || (await hasPciDisplay());
  const found = lookAtPci
    ? await si()
        .graphics()
        .then(
          (g) => computeGpus(g.controllers),
          () => [],
        )
    : [];
  if (found.some((g) => g.nvidia)) {
    return found;
  }
  const smi = await run('nvidia-smi', [
    '--query-gpu=name,memory.total,utilization.gpu',
    '--format=csv,noheader,nounits',
  ]);
  const nvidia = parseNvidiaSmi(smi ?? '').map((g) => ({
    name: g.name.slice(0, 200),
    ...(g.memoryMb ? { memoryMb: g.memoryMb } : {}),
    nvidia: true,
  }));
  return [...nvidia, ...found].slice(0, MAX_GPUS);
}

/** `\040` and the like in /proc/self/mounts: a space, tab, newline or backslash in a path. */
const unescapeMount = (field: string) =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/**
 * The mounted filesystems from /proc/self/mounts, read asynchronously (systeminformation
 * reads it synchronously, then runs df). Pseudo, network and system mounts are left out
 * before any statfs: a hung NFS server must not hang the agent.
 */
async function linuxFsSizes(): Promise<FsSize[]> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields.length >= 3)
    .map(([device, mount, type]) => ({ fs: unescapeMount(device!), mount: unescapeMount(mount!), type: type! }))
    .filter((m) => !skippedMount(m.type, m.mount));
  const sized = await Promise.all(
    mounts.map(async (m) => {
      try {
        const s = await statfs(m.mount);
        return { ...m, size: s.blocks * s.bsize };
      } catch {
        return undefined;
      }
    }),
  );
  return sized.filter((m): m is FsSize => !!m);
}

/** Total and available memory from /proc/meminfo (what systeminformation's mem reads on Linux). */
async function linuxMemory(): Promise<{ total: number; available: number }> {
  const text = await readFile('/proc/meminfo', 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  if (!Number.isFinite(total) || !Number.isFinite(available)) {
    throw new Error('/proc/meminfo without MemTotal or MemAvailable');
  }
  return { total, available };
}

/** systeminformation and Node: the real machine, its programs run by `run`. */
export const systemSourceWith = (run: Probe): MetricsSource => ({
  // si.graphics runs lspci, nvidia-smi, clinfo and xrandr: once per process (GPUs are not hot-plugged).
  gpus: () => (gpuDiscovery ??= discoverGpus(run)),
  fsSize: () => (platform() === 'linux' ? linuxFsSizes() : si().fsSize()),
  // Node's getifaddrs, not si.networkInterfaces: that one runs a synchronous shell per
  // interface (nmcli, ethtool …) and held the event loop for about 2 s in a measurement.
  networkInterfaces: () =>
    Promise.resolve(
      Object.entries(networkInterfaces()).map(([iface, addresses]) => ({
        iface,
        internal: !!addresses?.every((a) => a.internal),
        operstate: 'up',
        default: false,
      })),
    ),
  mem: () => (platform() === 'linux' ? linuxMemory() : si().mem()),
  cpuTimes: () => cpus().map((c) => c.times),
  loadavg: () => (platform() === 'win32' ? undefined : loadavg()),
  uptime: () => uptime(),
  statfs: (path) => statfs(path),
  netCounters: async (ifaces) => {
    if (platform() !== 'linux') {
      // elsewhere systeminformation asks netstat (macOS, BSD) or PowerShell (Windows).
      const stats = await si().networkStats(ifaces.join(','));
      return stats.map((s) => ({ iface: s.iface, rxBytes: s.rx_bytes, txBytes: s.tx_bytes }));
    }
    // on Linux the counters are two small files per interface: read them, no shell per heartbeat.
    const read = (iface: string, counter: string) =>
      readFile(`/sys/class/net/${iface}/statistics/${counter}`, 'utf8').then(Number);
    const rows = await Promise.all(
      ifaces.map(async (iface) => {
        try {
          return { iface, rxBytes: await read(iface, 'rx_bytes'), txBytes: await read(iface, 'tx_bytes') };
        } catch {
          return undefined;
        }
      }),
    );
    return rows.filter((r): r is NetCounters => !!r && Number.isFinite(r.rxBytes) && Number.isFinite(r.txBytes));
  },
  nvidiaSmi: (timeoutMs) =>
    run(
      'nvidia-smi',
      ['--query-gpu=index,utilization.gpu,memory.used,memory.total,name', '--format=csv,noheader,nounits'],
      timeoutMs,
    ),
});

/** The real machine, its programs forked from this process. */
export const systemSource: MetricsSource = systemSourceWith(probe);

/** One value refreshed in the background: at most one read in flight, the last good value kept. */
class Slot<T> {
  value?: T;
  at = -Infinity;
  private pending?: Promise<void>;

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Starts a read unless one is in flight or the value is younger than `maxAgeMs`; resolves when it settles. */
  refresh(read: () => Promise<T>, maxAgeMs = 0): Promise<void> {
    if (!this.pending && performance.now() - this.at >= maxAgeMs) {
      this.pending = (async () => {
        try {
          this.value = await read();
          this.at = performance.now();
        } catch (error) {
          this.onError(error);
          this.at = performance.now();
        } finally {
          this.pending = undefined;
        }
      })();
    }
    return this.pending ?? Promise.resolve();
  }
}

export interface SamplerOptions {
  /** Directory whose disk `diskFreeMb`/`diskTotalMb` describe (the agent's state directory). */
  path: string;
  /** Longest a sample waits for its reads; what is late comes from the previous sample. */
  timeoutMs: number;
  source?: MetricsSource;
  /** How the real machine's programs (nvidia-smi) are run, when `source` is not given. */
  probe?: Probe;
  logger?: Logger;
}

/**
 * The node-agent's metrics for each heartbeat. Static facts are looked up once (GPUs, with
 * systeminformation's graphics) or every few minutes (disk layout with its fsSize, network
 * interfaces); each heartbeat reads only live values, asynchronously, and spawns nothing
 * unless there is an NVIDIA GPU (then one nvidia-smi). A sample never waits longer than
 * `timeoutMs`: a slow read finishes in the background and the next heartbeat carries it.
 */
export class SystemSampler {
  private readonly source: MetricsSource;
  private readonly gpuList: Slot<DiscoveredGpu[]>;
  private readonly layout: Slot<DiskLayout[]>;
  private readonly ifaces: Slot<string[]>;
  private readonly memory: Slot<{ usedMb: number; totalMb: number }>;
  private readonly stateDisk: Slot<{ freeMb: number; totalMb: number }>;
  private readonly disks: Slot<DiskMetrics[]>;
  private readonly network: Slot<NetworkMetrics[]>;
  private readonly gpuLive: Slot<GpuMetrics[]>;
  private cpuBefore?: CpuTimes[];
  private netBefore?: { counters: NetCounters[]; at: number };

  constructor(private readonly options: SamplerOptions) {
    this.source = options.source ?? (options.probe ? systemSourceWith(options.probe) : systemSource);
    const slot = <T>(what: string) =>
      new Slot<T>((error) => options.logger?.debug({ err: error, what }, 'system metric not read'));
    this.gpuList = slot('gpus');
    this.layout = slot('disk layout');
    this.ifaces = slot('network interfaces');
    this.memory = slot('memory');
    this.stateDisk = slot('state disk');
    this.disks = slot('disks');
    this.network = slot('network');
    this.gpuLive = slot('gpu utilisation');
  }

  /** Compute GPUs of this machine, for its capabilities (discovered once). */
  async gpus(): Promise<GpuInfo[]> {
    await within(
      this.gpuList.refresh(() => this.source.gpus(), Infinity),
      GPU_DISCOVERY_TIMEOUT_MS,
    );
    return gpuInfos(this.gpuList.value ?? []);
  }

  async sample(): Promise<MachineMetrics> {
    const { source } = this;
    // CPU counters are a synchronous read of /proc/stat by Node: no spawn, microseconds.
    const times = source.cpuTimes();
    const cpu = cpuUsage(this.cpuBefore, times);
    this.cpuBefore = times;

    const stateDisk = this.stateDisk.refresh(async () => {
      const d = await source.statfs(this.options.path);
      return { freeMb: Math.round((d.bavail * d.bsize) / MB), totalMb: Math.round((d.blocks * d.bsize) / MB) };
    });
    // Static facts first (cached: a resolved promise once known), then the live values that need them.
    const then =
      <T>(facts: Slot<T>, live: (value: T) => Promise<void> | undefined) =>
      () =>
        facts.value === undefined ? undefined : live(facts.value);
    await within(
      Promise.all([
        this.gpuList
          .refresh(() => source.gpus(), Infinity)
          .then(
            then(this.gpuList, (gpus) =>
              gpus.some((g) => g.nvidia)
                ? this.gpuLive.refresh(async () =>
                    parseNvidiaSmiLive((await source.nvidiaSmi(this.options.timeoutMs * 4)) ?? ''),
                  )
                : undefined,
            ),
          ),
        this.layout
          .refresh(async () => diskLayout(await source.fsSize()), LAYOUT_REFRESH_MS)
          .then(then(this.layout, (layout) => this.disks.refresh(() => this.readDisks(layout)))),
        this.ifaces
          .refresh(async () => interfacesToWatch(await source.networkInterfaces()), LAYOUT_REFRESH_MS)
          .then(
            then(this.ifaces, (ifaces) =>
              ifaces.length ? this.network.refresh(() => this.readNetwork(ifaces)) : undefined,
            ),
          ),
        this.memory.refresh(async () => {
          const m = await source.mem();
          return { usedMb: Math.round((m.total - m.available) / MB), totalMb: Math.round(m.total / MB) };
        }),
        stateDisk,
      ]),
      this.options.timeoutMs,
    );
    // diskFreeMb/diskTotalMb are required: the first sample waits a little longer for them rather than send zeros.
    if (!this.stateDisk.value) {
      await within(stateDisk, STATE_DISK_FIRST_WAIT_MS);
    }

    const memory = this.memory.value ?? {
      usedMb: Math.round((totalmem() - freemem()) / MB),
      totalMb: Math.round(totalmem() / MB),
    };
    const load = source.loadavg();
    const liveGpus = this.liveGpus(this.gpuList.value ?? []);
    return {
      cpuLoad: Math.round(((load?.[0] ?? 0) / (times.length || 1)) * 100) / 100,
      memoryUsedMb: Math.max(0, memory.usedMb),
      memoryTotalMb: memory.totalMb,
      diskFreeMb: this.stateDisk.value?.freeMb ?? 0,
      diskTotalMb: this.stateDisk.value?.totalMb ?? 0,
      uptimeSeconds: Math.round(source.uptime()),
      cpuPercent: cpu.percent,
      cpuCoresPercent: cpu.cores.slice(0, 1024),
      ...(load ? { loadAverage: load.slice(0, 3).map((l) => Math.round(Math.max(0, l) * 100) / 100) } : {}),
      ...(this.disks.value?.length ? { disks: this.disks.value } : {}),
      ...(this.network.value?.length ? { network: this.network.value } : {}),
      ...(liveGpus.length ? { gpus: liveGpus } : {}),
    };
  }

  private async readDisks(layout: DiskLayout[]): Promise<DiskMetrics[]> {
    const rows = await Promise.all(
      layout.map(async (d) => {
        try {
          const s = await this.source.statfs(d.mount);
          return {
            ...d,
            sizeMb: Math.round((s.blocks * s.bsize) / MB),
            usedMb: Math.round(((s.blocks - s.bfree) * s.bsize) / MB),
          };
        } catch {
          return undefined; // unmounted since the layout was read
        }
      }),
    );
    return rows.filter((r): r is DiskMetrics => !!r && r.sizeMb > 0);
  }

  private async readNetwork(ifaces: string[]): Promise<NetworkMetrics[]> {
    const counters = await this.source.netCounters(ifaces);
    const at = performance.now();
    const before = this.netBefore;
    this.netBefore = { counters, at };
    return before ? networkRates(before.counters, counters, (at - before.at) / 1000) : [];
  }

  /** NVIDIA GPUs with nvidia-smi's live values; other compute GPUs with what discovery knew. */
  private liveGpus(gpus: DiscoveredGpu[]): GpuMetrics[] {
    const others: GpuMetrics[] = gpus
      .filter((g) => !g.nvidia)
      .map((g) => ({ name: g.name, ...(g.memoryMb ? { memoryTotalMb: g.memoryMb } : {}) }));
    const nvidia =
      this.gpuLive.value ??
      gpus.filter((g) => g.nvidia).map((g) => ({ name: g.name, ...(g.memoryMb ? { memoryTotalMb: g.memoryMb } : {}) }));
    return [...nvidia, ...others].slice(0, MAX_GPUS);
  }
}

/** Waits for `work`, but no longer than `ms`. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
