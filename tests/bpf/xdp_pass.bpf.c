// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test helper: an XDP program that passes everything. On veth, frames a peer
 * sends with XDP_TX are only delivered if this side has an XDP program too,
 * so lab and test topologies attach this to the far end of synguard's veth.
 */
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

SEC("xdp.frags") /* multi-buffer aware: allows jumbo MTUs */
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
