#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# spdx.sh - every source file the repository tracks carries the licence's
# SPDX line in its first two lines (the second after a #! line).
#
#   bash tests/lint/spdx.sh [SOURCE_DIR]
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"
missing=0

# The tracked files in a git checkout, else what a source tarball holds.
source_files() {
	local patterns=('*.c' '*.h' '*.sh' '*.in' '*.supp' '*.service' '*.py' '*.js' 'CMakeLists.txt')
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -- "${patterns[@]}" .ci/run
	else
		local args=() pattern
		for pattern in "${patterns[@]}"; do args+=(-o -name "$pattern"); done
		find . -path './build*' -prune -o -path ./.git -prune -o -type f \( -false "${args[@]}" \) -print |
			sed 's|^\./||'
		[[ -f .ci/run ]] && echo .ci/run
	fi | grep -v -e '^web/vendor/' -e '^mosquitto/dashboard/vendor/'
}
while IFS= read -r file; do
	if ! head -n 2 -- "$file" | grep -q "SPDX-License-Identifier: BSD-3-Clause"; then
		echo "no SPDX line: $file" >&2
		missing=$((missing + 1))
	fi
done < <(source_files)
[[ -f LICENSE ]] || { echo "no LICENSE file" >&2; missing=$((missing + 1)); }
((missing == 0)) || { echo "$missing file(s) without the licence" >&2; exit 1; }
echo "spdx: every source file has its SPDX line"
