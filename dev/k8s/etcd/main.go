// Command etcd is etcd's own server main (etcdmain.Main), built from go.etcd.io/etcd/server/v3.
// etcd's go.mod carries replace directives, so `go install` of its command does not work from
// the module proxy; this module requires the server library and calls its entry point instead.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
