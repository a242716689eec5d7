#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# make-certs.sh - the bus's certificate authority and its identities'
# certificates, for the broker's TLS listener.
#
#   mosquitto/make-certs.sh DIR IDENTITY...          issue (or keep) certificates
#   mosquitto/make-certs.sh DIR --broker SAN          the broker's own (DIR/pki/broker.*)
#   mosquitto/make-certs.sh DIR --revoke NAME...     revoke, and cut them off
#
# The CA is made once, in DIR/pki (its key never leaves it, mode 600).  An
# identity (NAME or ROLE:NAME, see identities.sh) gets DIR/certs/NAME.crt and
# NAME.key (mode 600), with CN=NAME: the broker takes the CN as the identity
# and as the client id, so the certificate is all a new host needs.  Copy
# DIR/pki/ca.crt, NAME.crt and NAME.key to the machine that runs NAME.
# SAN is the broker's subjectAltName list, e.g. "IP:10.0.0.5,DNS:broker.lab"
# (clients check it against the address they dial); a changed SAN re-issues.
# --revoke adds the certificates to DIR/pki/crl.pem and the names to
# DIR/revoked; a running broker of DIR then reloads (SIGHUP): new
# connections with those certificates fail the handshake, and the
# onvm_identity plugin disconnects the ones that are up.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=identities.sh
source "$here/identities.sh"

usage() {
	echo "usage: $0 DIR IDENTITY... | $0 DIR --broker SAN | $0 DIR --revoke NAME..." >&2
	exit 2
}
(($# >= 2)) || usage
dir=$1
shift
pki=$dir/pki
mkdir -p "$pki" "$dir/certs"
chmod 700 "$pki"
dir=$(cd "$dir" && pwd)
pki=$dir/pki

openssl_quiet() { openssl "$@" >/dev/null 2>"$pki/openssl.err" || { cat "$pki/openssl.err" >&2; return 1; }; }

make_ca() {
	[[ -s $pki/ca.crt && -s $pki/ca.key ]] && return 0
	(umask 077 && openssl_quiet genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/ca.key")
	openssl_quiet req -x509 -new -key "$pki/ca.key" -out "$pki/ca.crt" -days 3650 -sha256 \
		-subj "/O=Distributed OpenNetVM/CN=onvm bus CA"
	: >"$pki/index.txt"
	echo 1000 >"$pki/crlnumber"
	cat >"$pki/ca.cnf" <<CNF
[ca]
default_ca = onvm
[onvm]
database = $pki/index.txt
crlnumber = $pki/crlnumber
certificate = $pki/ca.crt
private_key = $pki/ca.key
default_md = sha256
default_crl_days = 3650
CNF
	make_crl
}

make_crl() { openssl_quiet ca -config "$pki/ca.cnf" -gencrl -out "$pki/crl.pem"; }

# issue NAME USAGE FOLDER [SAN]: FOLDER/NAME.key and NAME.crt, signed by the CA.
issue() {
	local name=$1 usage=$2 san=${4:-} key=$3/$1.key crt=$3/$1.crt
	[[ -s $key ]] || (umask 077 && openssl_quiet genpkey -algorithm EC \
		-pkeyopt ec_paramgen_curve:P-256 -out "$key")
	openssl_quiet req -new -key "$key" -out "$pki/$name.csr" -subj "/CN=$name"
	{
		echo "basicConstraints = CA:FALSE"
		echo "keyUsage = digitalSignature"
		echo "extendedKeyUsage = $usage"
		[[ -n $san ]] && echo "subjectAltName = $san"
	} >"$pki/$name.ext"
	openssl_quiet x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
		-CAcreateserial -days 825 -sha256 -extfile "$pki/$name.ext" -out "$crt"
	# The CA's database is what revocation reads.
	local serial expiry
	serial=$(openssl x509 -in "$crt" -noout -serial | cut -d= -f2)
	expiry=$(openssl x509 -in "$crt" -noout -enddate | cut -d= -f2)
	expiry=$(date -u -d "$expiry" +%y%m%d%H%M%SZ)
	printf 'V\t%s\t\t%s\tunknown\t/CN=%s\n' "$expiry" "$serial" "$name" >>"$pki/index.txt"
	rm -f "$pki/$name.csr"
}

make_ca
case $1 in
--broker)
	san=${2:?}
	if [[ ! -s $pki/broker.crt || $(cat "$pki/broker.san" 2>/dev/null) != "$san" ]]; then
		issue broker serverAuth "$pki" "$san"
		echo "$san" >"$pki/broker.san"
	fi
	;;
--revoke)
	shift
	(($#)) || usage
	touch "$dir/revoked"
	for name in "$@"; do
		identity_name_valid "$name" || usage
		[[ -f $dir/certs/$name.crt ]] || { echo "$0: no certificate for '$name'" >&2; exit 2; }
		openssl ca -config "$pki/ca.cnf" -revoke "$dir/certs/$name.crt" >/dev/null 2>&1 || true
		grep -qxF "$name" "$dir/revoked" || echo "$name" >>"$dir/revoked"
	done
	make_crl
	identity_reload "$dir"
	echo "revoked: $*"
	;;
-*) usage ;;
*)
	for arg in "$@"; do
		identity_parse "$arg" || exit 2
		identity_add "$dir" "$IDENTITY_ROLE" "$IDENTITY_NAME" || exit 2
		name=$IDENTITY_NAME
		if grep -qxF "$name" "$dir/revoked" 2>/dev/null; then
			echo "$0: '$name' is revoked: not issued again (a new host takes a new name)" >&2
			continue
		fi
		[[ -s $dir/certs/$name.crt ]] || issue "$name" clientAuth "$dir/certs"
	done
	identity_write_acl "$dir"
	identity_reload "$dir"
	;;
esac
