import { Injectable } from '@nestjs/common';

/** Wakes what follows sessions (the assigner) when a machine reported a change: no polling for it. */
@Injectable()
export class SessionSignals {
  private readonly listeners = new Set<(machineId: string) => void>();

  onChange(listener: (machineId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(machineId: string): void {
    for (const listener of this.listeners) {
      listener(machineId);
    }
  }
}
