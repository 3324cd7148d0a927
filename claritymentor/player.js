() => {
  // ClarityMentor's reply player: plays the reply's pieces as they arrive, one after the
  // other, through Web Audio (no HLS, no <audio> element, so no buffering delay), and
  // stops at once on barge-in. Messages come from the hidden #audio-feed textbox as JSON:
  //   {"turn": 3, "seq": 0, "wav": "<base64 WAV>"}   a piece of reply 3
  //   {"cmd": "stop", "turn": 3}                      stop reply 3 (and drop what is queued)
  // window.cmPlayer.log keeps, per piece, when it arrived and when it starts playing
  // (performance.now() ms), for the browser latency test and for anyone curious.
  if (window.cmPlayer) return;
  const GAP_S = __PIECE_GAP_S__;  // constants.PIECE_GAP_S, filled in by ui.player_js()
  const P = { ctx: null, sources: [], nextTime: 0, stopped: 0, seen: new Set(), chain: Promise.resolve(),
              log: [], stops: [] };
  P.context = () => {
    if (!P.ctx) P.ctx = new (window.AudioContext || window.webkitAudioContext)();
    if (P.ctx.state === "suspended") P.ctx.resume();
    return P.ctx;
  };
  // Browsers only let audio start after a click: unlock on the first one (record, send...).
  document.addEventListener("pointerdown", () => P.context(), { capture: true });
  document.addEventListener("keydown", () => P.context(), { capture: true });

  const decode = (b64) => {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return P.context().decodeAudioData(bytes.buffer);
  };

  const play = async (m, arrived, arrivedWall) => {
    const buf = await decode(m.wav);
    if (m.turn <= P.stopped) return;
    const ctx = P.context();
    const now = ctx.currentTime;
    const start = Math.max(now + 0.005, P.nextTime);
    const src = ctx.createBufferSource();
    src.buffer = buf;
    src.connect(ctx.destination);
    src.start(start);
    P.nextTime = start + buf.duration + GAP_S;
    const entry = { turn: m.turn, seq: m.seq, arrived, transit_ms: m.sent ? arrivedWall - m.sent : null,
                    starts: performance.now() + (start - now) * 1000,
                    duration_ms: buf.duration * 1000, state: ctx.state, ended: null };
    src.onended = () => {
      entry.ended = performance.now();
      P.sources = P.sources.filter((s) => s !== src);
    };
    P.sources.push(src);
    P.log.push(entry);
  };

  P.stop = (turn) => {
    P.stopped = Math.max(P.stopped, turn || 0);
    for (const s of P.sources) {
      try { s.stop(); } catch (e) { /* already stopped */ }
    }
    P.sources = [];
    P.nextTime = 0;
    P.stops.push({ turn, at: performance.now() });
  };

  P.playing = () => P.sources.length > 0;

  P.push = (raw) => {
    if (!raw) return;
    let m;
    try { m = JSON.parse(raw); } catch (e) { return; }
    if (m.cmd === "stop") { P.stop(m.turn); return; }
    if (!m.wav || m.turn <= P.stopped) return;
    const key = `${m.turn}:${m.seq}`;
    if (P.seen.has(key)) return;
    P.seen.add(key);
    const arrived = performance.now();
    const arrivedWall = Date.now();  // against the server's wall clock in m.sent: the web layer's share
    P.chain = P.chain.then(() => play(m, arrived, arrivedWall)).catch((e) => console.error("cmPlayer", e));
  };
  window.cmPlayer = P;
}
