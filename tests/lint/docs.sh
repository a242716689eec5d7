#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# docs.sh - the user documentation stays inside the repository and its bus
# examples stay valid.
#
#   bash tests/lint/docs.sh [SOURCE_DIR [BUILD_DIR]]
#
# 1. The Markdown files (README.md, docs/, policy/, tests/traces/) point
#    only inside the repository: no URL links, no paths out of it, and
#    every relative link names a file that exists (and a heading of it, for
#    an anchor); docs other branches are writing are listed in PENDING.
# 2. Every example message in docs/*.md, an indented line "onvm/TOPIC
#    {...}" as mosquitto_sub -v prints it, goes through the real decoders
#    (onvm-policy --replay decodes every topic kind): it must be accepted,
#    unless the next line is "-> REASON", in which case it must be rejected
#    with exactly that reason.
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
build=${2:-$src/build}
PENDING=(docs/operations-telemetry.md)
errors=0
problem() {
	echo "docs: $*" >&2
	errors=$((errors + 1))
}

cd "$src"
mapfile -t docs < <(git ls-files '*.md' 2>/dev/null || find . -name '*.md' -not -path './build*' | sed 's|^\./||')

# The anchors a Markdown file's headings make, as GitHub spells them.
anchors() {
	sed -n 's/^#\{1,6\} \(.*\)$/\1/p' "$1" | tr '[:upper:]' '[:lower:]' |
		sed -e 's/[^a-z0-9 _-]//g' -e 's/ /-/g'
}

# ---- 1. links ----
for doc in "${docs[@]}"; do
	while IFS= read -r hit; do
		problem "$doc:${hit%%:*}: names a file outside the repository: ${hit#*:}"
	done < <(grep -n '\.\./shared\|DESIGN\.md' "$doc" || true)
	dir=$(dirname "$doc")
	while IFS= read -r target; do
		case $target in
		http:* | https:* | ftp:* | mailto:* | //*) problem "$doc: link out of the repository: $target" ;;
		*)
			path=${target%%#*}
			anchor=
			[[ $target == *'#'* ]] && anchor=${target#*#}
			resolved=$(realpath -m "$dir/${path:-$(basename "$doc")}")
			rel=${resolved#"$src"/}
			if [[ $resolved != "$src"/* ]]; then
				problem "$doc: link leaves the repository: $target"
			elif [[ ! -e $resolved ]]; then
				printf '%s\n' "${PENDING[@]}" | grep -qx "$rel" ||
					problem "$doc: link to a missing file: $target"
			elif [[ -n $anchor && $resolved == *.md ]] && ! anchors "$resolved" | grep -qx -- "$anchor"; then
				problem "$doc: link to a missing heading: $target"
			fi
			;;
		esac
	done < <(grep -o '\](\([^)]*\))' "$doc" | sed 's/^](\(.*\))$/\1/')
done

# ---- 2. examples through the decoders ----
policy=$build/onvm-policy
[[ -x $policy ]] || {
	echo "docs: no $policy (build first)" >&2
	exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
examples=0
: >"$tmp/trace"
: >"$tmp/expected"
for doc in docs/*.md; do
	lineno=0
	pending_reason=
	while IFS= read -r line || [[ -n $line ]]; do
		lineno=$((lineno + 1))
		if [[ $line =~ ^\ \ \ \ -\>\ (.*)$ ]]; then
			[[ -n $pending_reason ]] || problem "$doc:$lineno: a reason under no example"
			sed -i '$ d' "$tmp/expected"
			printf '%s\t%s\n' "$pending_reason" "${BASH_REMATCH[1]}" >>"$tmp/expected"
			pending_reason=
			continue
		fi
		pending_reason=
		[[ $line =~ ^\ \ \ \ (onvm/[^ ]+)\ (\{.*)$ ]] || continue
		topic=${BASH_REMATCH[1]}
		payload=${BASH_REMATCH[2]}
		examples=$((examples + 1))
		jq -cn --arg topic "$topic" --arg payload "$payload" --argjson n "$examples" \
			'{tst: ("2026-11-24T00:00:" + (if $n < 10 then "0" else "" end) + ($n | tostring) + ".000000Z+0000"),
			  topic: $topic, qos: 1, retain: 0, payloadlen: ($payload | utf8bytelength), payload: $payload}' \
			>>"$tmp/trace"
		pending_reason="$doc:$lineno"
		printf '%s\t\n' "$pending_reason" >>"$tmp/expected"
	done <"$doc"
done
((examples > 0)) || problem "no example messages found in docs/"
((examples < 60)) || problem "more than 59 examples: widen the trace's seconds"

"$policy" --replay "$tmp/trace" --no-scale-in >/dev/null 2>"$tmp/replay.err" ||
	problem "the replay failed: $(tail -n 3 "$tmp/replay.err")"
n=0
while IFS=$'\t' read -r where reason; do
	n=$((n + 1))
	got=$(sed -n "s/^replay: line $n: [^ ]*: //p" "$tmp/replay.err")
	if [[ -z $reason && -n $got ]]; then
		problem "$where: the decoder rejects this example: $got"
	elif [[ -n $reason && -z $got ]]; then
		problem "$where: the decoder accepts this example, expected: $reason"
	elif [[ -n $reason && $got != "$reason" ]]; then
		problem "$where: rejected as '$got', the docs say '$reason'"
	fi
done <"$tmp/expected"

if ((errors)); then
	echo "docs: $errors problem(s)" >&2
	exit 1
fi
echo "docs: links inside the repository; $examples example messages as documented"
