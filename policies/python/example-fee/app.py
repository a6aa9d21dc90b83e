"""example-fee: a revops fee policy, in Python.

revops calls `propose_fees` every fee cycle with a snapshot of the node (channels, peers,
pending HTLCs, feerates, flow statistics) and this policy's saved state; it answers with a
fee per channel. The host then applies its guards (bounds, max step, hysteresis, rate limit)
before anything reaches lightningd. Money is integer msat, fees integer ppm.

This example prices by balance: `base-ppm` when the channel is half full, dearer as our side
empties, cheaper as it fills. It is the same algorithm as the Rust and JavaScript templates and
decides exactly as they do. Replace `fee_for` with your own idea.

Keep it pure: the time and the only randomness come in `ctx` (`now_secs`, `seed`). revops runs
Python with a capability-free WASI: no files, network or environment, clocks fixed, `random`
seeded from `ctx.seed`; `print` goes to the node's log.
"""

import wit_world
from componentize_py_types import Err
from wit_world.imports import logging, types

VERSION = "0.1.0"
U32_MAX = 4294967295


def param(params, name):
    """A parameter's value as resolved by the host (validated against `describe`)."""
    for p in params:
        if p.name == name:
            return p.value
    return None


def as_u32(value):
    """Like Rust's `value as u32`: toward zero, saturating, NaN -> 0."""
    if value != value:
        return 0
    return int(min(max(value, 0.0), float(U32_MAX)))


def fee_for(channel, base_ppm, steepness):
    total = channel.local_msat + channel.remote_msat
    if total == 0:
        return as_u32(base_ppm)
    local_share = float(channel.local_msat) / float(total)
    # +steepness x 50 % when empty, -steepness x 50 % when full.
    factor = 1.0 + steepness * (0.5 - local_share)
    return as_u32(base_ppm * max(factor, 0.1))


class WitWorld(wit_world.WitWorld):
    def describe(self):
        return types.PolicyInfo(
            name="example-fee",
            version=VERSION,
            description="Balance-aware fee (a revops policy template).",
            params=[
                types.ParamSpec(
                    name="base-ppm",
                    description="Fee when the channel is half full, ppm.",
                    kind=types.ParamKind.INTEGER,
                    default=types.ParamValue_Integer(200),
                    min=1.0,
                    max=10000.0,
                ),
                types.ParamSpec(
                    name="steepness",
                    description="How strongly the fee follows the balance.",
                    kind=types.ParamKind.FLOAT,
                    default=types.ParamValue_Float(1.0),
                    min=0.0,
                    max=1.8,
                ),
            ],
        )

    def propose_fees(self, ctx, snapshot):
        base = param(ctx.params, "base-ppm")
        if not isinstance(base, types.ParamValue_Integer):
            # Raising Err(...) refuses the call with this message (the host keeps current fees).
            raise Err(f"base-ppm: unexpected {base!r}")
        steep = param(ctx.params, "steepness")
        if not isinstance(steep, types.ParamValue_Float):
            raise Err(f"steepness: unexpected {steep!r}")
        base_ppm = float(base.value)
        steepness = steep.value
        proposals = [
            types.FeeProposal(
                channel=channel.id,
                fee_ppm=fee_for(channel, base_ppm, steepness),
                fee_base_msat=channel.fee_base_msat,
                mode=types.PricingMode.NORMAL,
                reason="balance-aware",
            )
            for channel in snapshot.channels
        ]
        if not proposals:
            logging.log(logging.Level.DEBUG, "no channels")
        return types.FeeDecision(
            proposals=proposals,
            # Bytes kept for the next call; this policy needs no memory.
            node_state=b"",
            channel_states=[],
        )
