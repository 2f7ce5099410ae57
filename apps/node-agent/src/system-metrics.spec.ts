import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';

import type { Systeminformation } from 'systeminformation';

import { decode, HeartbeatPayload } from '@waggle/contracts';

import type { CpuTimes, MetricsSource, NetCounters } from './system-metrics';
import {
  computeGpus,
  cpuUsage,
  diskLayout,
  interfacesToWatch,
  networkRates,
  parseNvidiaSmiLive,
  SystemSampler,
} from './system-metrics';

const MB = 1024 * 1024;
const times = (user: number, idle: number): CpuTimes => ({ user, nice: 0, sys: 0, idle, irq: 0 });

/** systeminformation-shaped records, with only the fields that matter filled in. */
function controller(over: Partial<Systeminformation.GraphicsControllerData>): Systeminformation.GraphicsControllerData {
  return { vendor: '', model: '', bus: 'PCI', vram: null, vramDynamic: false, ...over };
}
function fs(fsName: string, type: string, mount: string, size = 100 * MB): Systeminformation.FsSizeData {
  return { fs: fsName, type, size, used: size / 2, available: size / 2, use: 50, mount, rw: true };
}
function nic(
  iface: string,
  over: Partial<Systeminformation.NetworkInterfacesData> = {},
): Systeminformation.NetworkInterfacesData {
  return {
    iface,
    ifaceName: iface,
    default: false,
    ip4: '',
    ip4subnet: '',
    ip6: '',
    ip6subnet: '',
    mac: '',
    internal: false,
    virtual: false,
    operstate: 'up',
    type: 'wired',
    duplex: '',
    mtu: 1500,
    speed: null,
    dhcp: false,
    dnsSuffix: '',
    ieee8021xAuth: '',
    ieee8021xState: '',
    carrierChanges: 0,
    ...over,
  };
}

/** A fake machine: counts the calls that spawn or scan, and can be made slow. */
class FakeSource implements MetricsSource {
  calls = { gpus: 0, fsSize: 0, networkInterfaces: 0, nvidiaSmi: 0, netCounters: 0 };
  cpu: CpuTimes[] = [times(0, 0), times(0, 0)];
  rx = 0;
  nvidia = false;
  slowMemory = false;

  gpus() {
    this.calls.gpus++;
    return Promise.resolve(this.nvidia ? [{ name: 'NVIDIA GeForce RTX 4090', memoryMb: 24564, nvidia: true }] : []);
  }
  fsSize() {
    this.calls.fsSize++;
    return Promise.resolve([fs('/dev/sda1', 'ext4', '/'), fs('tmpfs', 'tmpfs', '/run')]);
  }
  networkInterfaces() {
    this.calls.networkInterfaces++;
    return Promise.resolve([nic('lo', { internal: true }), nic('eth0', { default: true })]);
  }
  mem() {
    const value = { total: 8192 * MB, available: 6144 * MB };
    return this.slowMemory ? new Promise<typeof value>(() => undefined) : Promise.resolve(value);
  }
  cpuTimes() {
    return this.cpu;
  }
  loadavg() {
    return [1.5, 1, 0.5];
  }
  uptime() {
    return 1234.4;
  }
  statfs() {
    return Promise.resolve({ bsize: 4096, blocks: 25600, bfree: 12800, bavail: 10240 });
  }
  netCounters(ifaces: string[]): Promise<NetCounters[]> {
    this.calls.netCounters++;
    return Promise.resolve(ifaces.map((iface) => ({ iface, rxBytes: this.rx, txBytes: 0 })));
  }
  nvidiaSmi() {
    this.calls.nvidiaSmi++;
    return Promise.resolve<string | undefined>('0, 87, 20000, 24564, NVIDIA GeForce RTX 4090\n');
  }
}

/** Waits until the background reads a sample started have settled (they are promises, not timers). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('system metrics', () => {
  it('computes CPU % overall and per core from two readings of the counters', () => {
    const first = cpuUsage(undefined, [times(100, 300), times(300, 100)]);
    assert.deepEqual(first, { percent: 50, cores: [25, 75] }, 'since boot without a previous reading');
    const next = cpuUsage([times(100, 300), times(300, 100)], [times(200, 300), times(300, 200)]);
    assert.deepEqual(next, { percent: 50, cores: [100, 0] });
    assert.deepEqual(
      cpuUsage([times(1, 1)], [times(1, 1), times(1, 1)]).cores,
      [50, 50],
      'a core count change restarts from boot',
    );
    assert.deepEqual(cpuUsage([times(5, 5)], [times(5, 5)]), { percent: 0, cores: [0] }, 'no time passed');
  });

  it('keeps compute GPUs from systeminformation controllers and leaves display-only ones out', () => {
    const gpus = computeGpus([
      controller({
        vendor: 'NVIDIA Corporation',
        model: 'AD102',
        name: 'NVIDIA GeForce RTX 4090',
        memoryTotal: 24564,
        utilizationGpu: 3,
        vram: 24564,
      }),
      controller({
        vendor: 'Advanced Micro Devices, Inc. [AMD/ATI]',
        model: 'Navi 31 [Radeon RX 7900 XTX]',
        vram: 24576,
      }),
      controller({ vendor: 'ASPEED Technology, Inc.', model: 'ASPEED Graphics Family', vram: 16 }),
      controller({ vendor: 'Intel Corporation', model: 'UHD Graphics 630', vram: 128, vramDynamic: true }),
      controller({ vendor: 'Broadcom', model: 'VideoCore VI', vram: 76, vramDynamic: true }),
      controller({ vendor: 'NVIDIA Corporation', model: 'GK208B' }), // no driver: nvidia-smi never saw it
    ]);
    assert.deepEqual(gpus, [
      { name: 'NVIDIA GeForce RTX 4090', memoryMb: 24564, nvidia: true },
      { name: 'Navi 31 [Radeon RX 7900 XTX]', memoryMb: 24576, nvidia: false },
    ]);
  });

  it('picks local disks, one mount per device, root first, bounded', () => {
    const layout = diskLayout([
      fs('/dev/sda2', 'ext4', '/home'),
      fs('/dev/sda1', 'ext4', '/'),
      fs('/dev/sda1', 'ext4', '/var/lib/docker/overlay2/abc'),
      fs('/dev/sda1', 'ext4', '/srv/bind'),
      fs('overlay', 'overlay', '/var/lib/docker/overlay2/x/merged'),
      fs('tmpfs', 'tmpfs', '/dev/shm'),
      fs('nas:/tank', 'nfs4', '/mnt/nas'),
      fs('/dev/loop3', 'squashfs', '/snap/core/1'),
      fs('/dev/mmcblk0p1', 'vfat', '/boot/firmware'),
      fs('/dev/sdb1', 'ext4', '/empty', 0),
      ...Array.from({ length: 20 }, (_, i) => fs(`/dev/sdz${i}`, 'xfs', `/data/${String(i).padStart(2, '0')}`)),
    ]);
    assert.equal(layout.length, 8);
    assert.deepEqual(layout.slice(0, 3), [
      { mount: '/', fsType: 'ext4' },
      { mount: '/boot/firmware', fsType: 'vfat' },
      { mount: '/data/00', fsType: 'xfs' },
    ]);
    assert.ok(!layout.some((d) => /nas|shm|snap|docker|srv/.test(d.mount)));
  });

  it('watches real interfaces, default first, without loopback or container plumbing', () => {
    const names = interfacesToWatch([
      nic('lo', { internal: true }),
      nic('docker0'),
      nic('veth12ab'),
      nic('br-5f2c'),
      nic('wlan0', { operstate: 'down' }),
      nic('tailscale0', { virtual: true, operstate: 'unknown' }),
      nic('wlp2s0'),
      nic('eth0', { default: true }),
      nic('eth0', { default: true }), // IPv4 and IPv6 rows of one interface
    ]);
    assert.deepEqual(names, ['eth0', 'tailscale0', 'wlp2s0']);
  });

  it('turns counters into bytes per second, counting a reset from zero', () => {
    const before = [
      { iface: 'eth0', rxBytes: 1_000, txBytes: 500 },
      { iface: 'wlan0', rxBytes: 9_000, txBytes: 9_000 },
    ];
    const after = [
      { iface: 'eth0', rxBytes: 5_000, txBytes: 2_500 },
      { iface: 'wlan0', rxBytes: 1_000, txBytes: 9_000 },
      { iface: 'tun0', rxBytes: 7, txBytes: 7 },
    ];
    assert.deepEqual(networkRates(before, after, 2), [
      { iface: 'eth0', rxBytesPerSecond: 2_000, txBytesPerSecond: 1_000 },
      { iface: 'wlan0', rxBytesPerSecond: 500, txBytesPerSecond: 0 },
    ]);
    assert.deepEqual(networkRates(before, after, 0), []);
  });

  it('reads live GPU rows from nvidia-smi, unknown values left out', () => {
    assert.deepEqual(
      parseNvidiaSmiLive('0, 87, 20000, 24564, NVIDIA GeForce RTX 4090\n1, [N/A], [N/A], 8192, Tesla P4, rev 2\n'),
      [
        { name: 'NVIDIA GeForce RTX 4090', utilizationPercent: 87, memoryUsedMb: 20000, memoryTotalMb: 24564 },
        { name: 'Tesla P4, rev 2', memoryTotalMb: 8192 },
      ],
    );
  });

  it('samples live values on every heartbeat, discovers once, and passes the heartbeat contract', async () => {
    const source = new FakeSource();
    source.nvidia = true;
    const sampler = new SystemSampler({ path: tmpdir(), timeoutMs: 1_000, source });
    const first = await sampler.sample();
    assert.equal(first.network, undefined, 'no rate before a second reading');
    await settle();
    source.cpu = [times(50, 50), times(100, 0)];
    source.rx = 1_000_000;
    const second = await sampler.sample();
    assert.equal(second.cpuPercent, 75);
    assert.deepEqual(second.cpuCoresPercent, [50, 100]);
    assert.equal(second.cpuLoad, 0.75, 'the 1-minute load average per CPU, as before');
    assert.deepEqual(second.loadAverage, [1.5, 1, 0.5]);
    assert.deepEqual([second.memoryUsedMb, second.memoryTotalMb], [2048, 8192]);
    assert.deepEqual([second.diskFreeMb, second.diskTotalMb], [40, 100]);
    assert.deepEqual(second.disks, [{ mount: '/', fsType: 'ext4', sizeMb: 100, usedMb: 50 }]);
    assert.equal(second.network?.[0]?.iface, 'eth0');
    assert.ok(second.network[0].rxBytesPerSecond > 0);
    assert.deepEqual(second.gpus, [
      { name: 'NVIDIA GeForce RTX 4090', utilizationPercent: 87, memoryUsedMb: 20000, memoryTotalMb: 24564 },
    ]);
    assert.equal(second.uptimeSeconds, 1234);
    await sampler.sample();
    assert.equal(source.calls.gpus, 1, 'GPUs discovered once');
    assert.equal(source.calls.fsSize, 1, 'disk layout cached');
    assert.equal(source.calls.networkInterfaces, 1, 'interfaces cached');
    assert.ok(source.calls.nvidiaSmi >= 2, 'GPU utilisation sampled on every heartbeat');
    assert.deepEqual(await sampler.gpus(), [{ name: 'NVIDIA GeForce RTX 4090', memoryMb: 24564 }]);

    const payload = decode(HeartbeatPayload, {
      v: 1,
      agentVersion: '0.1.0',
      capabilities: {
        os: 'linux',
        arch: 'arm64',
        hostname: 'pi',
        cpus: 2,
        memoryMb: 8192,
        agents: [],
        tools: [],
        gpus: [],
        labels: [],
      },
      metrics: JSON.parse(JSON.stringify(second)) as unknown,
      intervalMs: 5_000,
    });
    assert.deepEqual(payload.metrics.gpus?.[0]?.utilizationPercent, 87);
  });

  it('spawns nothing for GPUs when there is none', async () => {
    const source = new FakeSource();
    const sampler = new SystemSampler({ path: tmpdir(), timeoutMs: 1_000, source });
    for (let i = 0; i < 3; i++) {
      const m = await sampler.sample();
      assert.equal(m.gpus, undefined);
      await settle();
    }
    assert.equal(source.calls.nvidiaSmi, 0);
  });

  it('never waits longer than its bound: a hung read is answered from the fallback', async () => {
    const source = new FakeSource();
    source.slowMemory = true;
    const sampler = new SystemSampler({ path: tmpdir(), timeoutMs: 50, source });
    const started = performance.now();
    const m = await sampler.sample();
    await sampler.sample();
    assert.ok(performance.now() - started < 1_000, 'two samples within their bounds');
    assert.ok(m.memoryTotalMb > 0, "the OS's figure while si.mem hangs");
  });

  it('refuses out-of-bounds metrics but accepts an older agent without the new fields', () => {
    const base = {
      v: 1,
      agentVersion: '0.0.9',
      capabilities: {
        os: 'linux',
        arch: 'x64',
        hostname: 'old',
        cpus: 4,
        memoryMb: 1,
        agents: [],
        tools: [],
        gpus: [{ name: 'x', utilizationPercent: 3 }],
        labels: [],
      },
      metrics: { cpuLoad: 0.3, memoryUsedMb: 1, memoryTotalMb: 2, diskFreeMb: 1, diskTotalMb: 2, uptimeSeconds: 9 },
      intervalMs: 5_000,
    };
    assert.doesNotThrow(() => decode(HeartbeatPayload, base));
    for (const bad of [
      { cpuPercent: 101 },
      { cpuCoresPercent: [50, -1] },
      { loadAverage: [1, 1, 1, 1] },
      { gpus: [{ name: 'g', utilizationPercent: 120 }] },
      { disks: [{ mount: '/', sizeMb: -1, usedMb: 0 }] },
      { network: [{ iface: 'eth0', rxBytesPerSecond: 1 }] },
      { gpus: [{ name: 'g', fanSpeed: 1 }] },
    ]) {
      assert.throws(
        () => decode(HeartbeatPayload, { ...base, metrics: { ...base.metrics, ...bad } }),
        /invalid/,
        JSON.stringify(bad),
      );
    }
  });
});
