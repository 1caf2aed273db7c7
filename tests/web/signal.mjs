// Writes one salespulse.v1.Signal (proto/salespulse/v1/signal.proto) as
// protobuf bytes to stdout, for kcat to publish on sp.signals.v1.
//   node signal.mjs '{"kind":"deal.no_progress_after_visit","level":3,...}' > sig.bin
// A hand-rolled encoder (varints and length-delimited fields) keeps the
// tests free of a protobuf dependency.
const s = JSON.parse(process.argv[2]);

function varint(n) {
  const out = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b); } while (v);
  return Buffer.from(out);
}
const key = (num, wire) => varint((num << 3) | wire);
const vfield = (num, n) => (n ? Buffer.concat([key(num, 0), varint(n)]) : Buffer.alloc(0));
function bytes(num, b) { return Buffer.concat([key(num, 2), varint(b.length), b]); }
const str = (num, v) => (v ? bytes(num, Buffer.from(String(v), 'utf8')) : Buffer.alloc(0));
const msg = (num, parts) => bytes(num, Buffer.concat(parts));

const SUBJECT = { deal: 1, customer: 2, rep: 3, team: 4, region: 5 };
const TRANSITION = { raised: 1, updated: 2, cleared: 3 };
const now = s.occurred_at_ms || Date.now();
const transition = s.transition || 'raised';
const signalId = s.signal_id || `${s.kind}:${s.subject_type}:${s.subject_id}:${s.episode}`;
const out = Buffer.concat([
  msg(1, [str(1, s.event_id || `${signalId}:${transition}:1`), vfield(2, now), vfield(3, Date.now()),
    str(4, 'tests/web'), vfield(6, 1)]),
  str(2, signalId),
  str(3, s.kind),
  vfield(4, TRANSITION[transition]),
  vfield(5, s.level),
  msg(6, [vfield(1, SUBJECT[s.subject_type]), str(2, s.subject_id)]),
  str(7, s.owner_rep_id), str(8, s.team_id), str(9, s.region_id), str(10, s.customer_id), str(11, s.deal_id),
  vfield(12, s.episode),
  str(13, s.explanation_zh), str(14, s.explanation_en),
  msg(15, [...(s.interaction_ids || []).map(i => str(1, i)), ...(s.quotes || []).map(q => str(3, q))]),
]);
process.stdout.write(out);
