// The pod sandbox's process: holds the pod's namespaces open until it is told to stop. Built here because no
// registry serves registry.k8s.io/pause to this machine.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
