// Command etcd is upstream's etcd server, built through a wrapper module because etcd's own server/go.mod carries
// monorepo replace directives that make `go install` of it impossible.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
