#!/usr/bin/env bash
# Builds the Kubernetes control plane QuickDeal's tests run against, from the Go module proxy:
# kube-apiserver, kube-controller-manager, kube-scheduler and kubectl (./go.mod), etcd
# (./etcd/go.mod), kwok and its stage configs, and helm.
#
#   dev/k8s/build.sh [name...]      # default: everything; prints the bin directory last
#
# Output: ${QUICKDEAL_CACHE:-~/.cache/quickdeal}/k8s-<version>/bin. A binary that is already
# there is skipped (Go is needed only to build), so a second run takes well under a second.
# Go's own caches stay where `go env` puts them. The flags below are fixed on purpose: Go
# rebuilds everything when they change.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
k8s_version=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$here/go.mod")
etcd_version=$(awk '$1 == "require" && $2 == "go.etcd.io/etcd/server/v3" { print $3 }' "$here/etcd/go.mod")
kwok_version=v0.8.0
helm_version=v3.22.0
[[ -n $k8s_version && -n $etcd_version ]] || { echo "k8s: cannot read versions from $here/go.mod and $here/etcd/go.mod" >&2; exit 1; }

out=${QUICKDEAL_CACHE:-$HOME/.cache/quickdeal}/k8s-${k8s_version#v}
bin=$out/bin
mkdir -p "$bin" "$out/stamps"

# One build at a time per cache (tests and `quickdeal up` may both ask for it).
exec 9>"$out/.lock"
flock 9

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

major=${k8s_version#v}; major=${major%%.*}
minor=${k8s_version#v*.}; minor=${minor%%.*}
kube_x=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_x+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
helm_x="-X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  helm_x+=" -X $pkg.k8sVersionMajor=$major -X $pkg.k8sVersionMinor=$minor"
done

# step <binary> <version> <command...>: runs the command (which writes "$bin/.<binary>.new")
# unless the binary of that version is already there, and prints one line with the time taken.
step() {
  local name=$1 version=$2; shift 2
  if [[ -x $bin/$name && -e $out/stamps/$name@$version ]]; then
    echo "k8s: $name $version cached"
    return
  fi
  command -v go >/dev/null || { echo "k8s: Go is not installed (https://go.dev/dl/); it builds $name" >&2; exit 1; }
  echo "k8s: building $name $version ..."
  local start=$SECONDS
  "$@"
  mv -f "$bin/.$name.new" "$bin/$name"
  mkdir -p "$out/stamps" && rm -f "$out/stamps/$name@"* && touch "$out/stamps/$name@$version"
  echo "k8s: $name $version built in $((SECONDS - start))s"
}

build_kube() { # kube-apiserver etc. from ./go.mod
  (cd "$here" && go build -trimpath -ldflags "-s -w$kube_x" -o "$bin/.$1.new" "k8s.io/kubernetes/cmd/$1")
}
build_etcd() {
  (cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$bin/.etcd.new" .)
}
install_tool() { # install_tool <name> <package@version> [-X flags]: `go install` into a scratch GOBIN
  local name=$1 pkg=$2 x=${3:-}
  rm -rf "$out/.gobin" && mkdir -p "$out/.gobin"
  (cd "$out" && GOBIN=$out/.gobin go install -trimpath -ldflags "-s -w${x:+ $x}" "$pkg")
  mv -f "$out/.gobin/$name" "$bin/.$name.new" && rm -rf "$out/.gobin"
}
build_kwok() {
  install_tool kwok "sigs.k8s.io/kwok/cmd/kwok@$kwok_version"
  # kwok needs Stage objects; kwokctl passes these defaults from kwok's module: node init and
  # heartbeat (with a lease), pod ready, complete and delete.
  local stages
  stages=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$kwok_version/kustomize/stage
  rm -rf "$out/kwok-stages" && mkdir -p "$out/kwok-stages"
  cp "$stages/node/fast/node-initialize.yaml" "$stages/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
    "$stages/pod/fast/pod-ready.yaml" "$stages/pod/fast/pod-complete.yaml" "$stages/pod/fast/pod-delete.yaml" \
    "$out/kwok-stages/"
}

names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm)
for name in "${names[@]}"; do
  case $name in
    etcd) step etcd "$etcd_version" build_etcd ;;
    kube-apiserver | kube-controller-manager | kube-scheduler | kubectl) step "$name" "$k8s_version" build_kube "$name" ;;
    kwok)
      [[ -d $out/kwok-stages ]] || rm -f "$out/stamps/kwok@"* # the stages come with the binary
      step kwok "$kwok_version" build_kwok ;;
    helm) step helm "$helm_version" install_tool helm "helm.sh/helm/v3/cmd/helm@$helm_version" "$helm_x" ;;
    *) echo "k8s: unknown binary '$name'" >&2; exit 2 ;;
  esac
done
echo "$bin"
