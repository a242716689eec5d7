#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Hosts as separate machines: the scale-out of test_remote_scale.sh (local,
# then remote over VXLAN, then kill -9 of a host: its Last Will, and the
# service re-placed), with the broker on a control machine (namespace
# TAG-ctl) and each manager run wholly inside its host's namespace with
# `ip netns exec`: ports, NFs and its bus connection, which crosses the
# management network to the broker's TLS listener with the host's own
# certificate.  The policy and the watcher use TLS with their certificates.
export ONVM_MACHINES=1
exec bash "$(dirname "$0")/test_remote_scale.sh"
