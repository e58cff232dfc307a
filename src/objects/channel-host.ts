/** What the ChannelAccount's saga modules get from the object: its SQL, its env and its state (for alarms). */
export interface Host {
  sql: SqlStorage;
  env: Env;
  ctx: DurableObjectState;
}

/** Moves the alarm earlier, never later (the alarm also flushes the outbox). */
export function wakeAt(h: Host, at: number): void {
  void h.ctx.storage
    .getAlarm()
    .then((current) => (current === null || current > at ? h.ctx.storage.setAlarm(at) : undefined));
}
