#!/usr/bin/env bash
# verify.sh BUILD_DIR FRAGMENT
# Check that every CONFIG_X=value line of FRAGMENT is present, unchanged, in
# BUILD_DIR/.config (i.e. survived olddefconfig). Names the ones that did not.
# Exit 0 when all survived, 1 when some did not, 2 on usage errors.
set -euo pipefail

if [[ $# -ne 2 ]]; then
	printf 'usage: %s BUILD_DIR FRAGMENT\n' "${0##*/}" >&2
	exit 2
fi

build_dir=$1
fragment=$2
config=$build_dir/.config

for f in "$config" "$fragment"; do
	if [[ ! -r $f ]]; then
		printf '%s: cannot read %s\n' "${0##*/}" "$f" >&2
		exit 2
	fi
done

declare -a wanted=()
declare -a missing=()

while IFS= read -r line; do
	# trim surrounding whitespace; comment lines never match below
	line=${line#"${line%%[![:space:]]*}"}
	line=${line%"${line##*[![:space:]]}"}
	[[ $line =~ ^CONFIG_[A-Za-z0-9_]+=.+$ ]] && wanted+=("$line")
done < "$fragment"

for opt in "${wanted[@]}"; do
	if ! grep -qxF -- "$opt" "$config"; then
		name=${opt%%=*}
		actual=$(grep -E -- "^${name}=|^# ${name} is not set" "$config" || true)
		missing+=("$opt (now: ${actual:-absent})")
	fi
done

if [[ ${#missing[@]} -ne 0 ]]; then
	printf 'did not survive olddefconfig:\n' >&2
	printf '  %s\n' "${missing[@]}" >&2
	exit 1
fi
printf 'all %d options of %s survived\n' "${#wanted[@]}" "$fragment"
