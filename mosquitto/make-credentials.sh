#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# make-credentials.sh - passwords and ACL for the broker's password listeners.
#
#   mosquitto/make-credentials.sh DIR IDENTITY...
#
# IDENTITY is NAME or ROLE:NAME (see identities.sh; policy and monitor are
# always made).  Writes DIR/passwd (hashed, for mosquitto), DIR/acl,
# DIR/identities and, per identity, DIR/secrets/<name>.pass (mode 600).
# Existing passwords are kept, so running it again with more identities is
# safe; a running broker of DIR is told to reload (SIGHUP).  Passwords never
# appear on a command line: mosquitto_passwd reads them from a pipe.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=identities.sh
source "$here/identities.sh"

(($# >= 1)) || { echo "usage: $0 DIR IDENTITY..." >&2; exit 2; }
dir=$1
shift
mkdir -p "$dir/secrets"
chmod 700 "$dir/secrets"

for arg in policy monitor "$@"; do
	identity_parse "$arg" || exit 2
	identity_add "$dir" "$IDENTITY_ROLE" "$IDENTITY_NAME" || exit 2
done

(umask 077 && : >"$dir/passwd.new")
while read -r _ name; do
	secret="$dir/secrets/$name.pass"
	if [[ ! -s $secret ]]; then
		(umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$secret")
	fi
	printf '%s\n%s\n' "$(cat "$secret")" "$(cat "$secret")" |
		mosquitto_passwd "$dir/passwd.new" "$name" >/dev/null
done <"$dir/identities"
mv "$dir/passwd.new" "$dir/passwd"
identity_write_acl "$dir"
identity_reload "$dir"
echo "credentials: $(identity_names "$dir" | tr '\n' ' ')(passwords in $dir/secrets/)"
