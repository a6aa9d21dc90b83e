// example-fee: a revops fee policy, in JavaScript.
//
// revops calls `proposeFees` every fee cycle with a snapshot of the node (channels, peers,
// pending HTLCs, feerates, flow statistics) and this policy's saved state; it answers with a
// fee per channel. The host then applies its guards (bounds, max step, hysteresis, rate limit)
// before anything reaches lightningd. Money is integer msat, fees integer ppm.
//
// This example prices by balance: `base-ppm` when the channel is half full, dearer as our side
// empties, cheaper as it fills. It is the same algorithm as the Rust and Python templates and
// decides exactly as they do. Replace `feeFor` with your own idea.
//
// WIT names become camelCase (`localMsat`, `feePpm`); u64 and s64 are BigInt, u32 and f64 are
// Number; enums are strings; variants are `{ tag, val }`. Throwing a string refuses the call
// with that message. The component is built with no WASI at all: no console, Date or
// Math.random. The time and the only randomness come in `ctx` (`nowSecs`, `seed`); log with
// `log(level, message)`.

import { log } from 'revops:policy/logging@0.1.0';

const VERSION = '0.1.0';
const U32_MAX = 4294967295;

/** A parameter's value as resolved by the host (validated against `describe`). */
function param(params, name) {
  const found = params.find((p) => p.name === name);
  return found === undefined ? undefined : found.value;
}

/** Like Rust's `value as u32`: toward zero, saturating, NaN -> 0. */
function asU32(value) {
  if (Number.isNaN(value)) {
    return 0;
  }
  return Math.trunc(Math.min(Math.max(value, 0), U32_MAX));
}

function feeFor(channel, basePpm, steepness) {
  const total = channel.localMsat + channel.remoteMsat;
  if (total === 0n) {
    return asU32(basePpm);
  }
  const localShare = Number(channel.localMsat) / Number(total);
  // +steepness x 50 % when empty, -steepness x 50 % when full.
  const factor = 1.0 + steepness * (0.5 - localShare);
  return asU32(basePpm * Math.max(factor, 0.1));
}

export function describe() {
  return {
    name: 'example-fee',
    version: VERSION,
    description: 'Balance-aware fee (a revops policy template).',
    params: [
      {
        name: 'base-ppm',
        description: 'Fee when the channel is half full, ppm.',
        kind: 'integer',
        default: { tag: 'integer', val: 200n },
        min: 1.0,
        max: 10000.0,
      },
      {
        name: 'steepness',
        description: 'How strongly the fee follows the balance.',
        kind: 'float',
        default: { tag: 'float', val: 1.0 },
        min: 0.0,
        max: 1.8,
      },
    ],
  };
}

export function proposeFees(ctx, snapshot) {
  const base = param(ctx.params, 'base-ppm');
  if (base === undefined || base.tag !== 'integer') {
    throw `base-ppm: unexpected ${JSON.stringify(base?.tag)}`;
  }
  const steep = param(ctx.params, 'steepness');
  if (steep === undefined || steep.tag !== 'float') {
    throw `steepness: unexpected ${JSON.stringify(steep?.tag)}`;
  }
  const basePpm = Number(base.val);
  const steepness = steep.val;
  const proposals = snapshot.channels.map((channel) => ({
    channel: channel.id,
    feePpm: feeFor(channel, basePpm, steepness),
    feeBaseMsat: channel.feeBaseMsat,
    mode: 'normal',
    reason: 'balance-aware',
  }));
  if (proposals.length === 0) {
    log('debug', 'no channels');
  }
  return {
    proposals,
    // Bytes kept for the next call; this policy needs no memory.
    nodeState: new Uint8Array(0),
    channelStates: [],
  };
}
