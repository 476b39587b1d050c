package blockdev_test

import (
	"context"
	"fmt"
	"time"

	"github.com/imaboot/imaboot/blockdev"
)

// The boot agent's use: wait for root= (up to rootdelay=), then learn the
// type to mount it with when rootfstype= is not given.
func Example() {
	ctx := context.Background()
	dev, err := blockdev.Wait(ctx, "UUID=0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f",
		blockdev.Options{}, 10*time.Second, 50*time.Millisecond)
	if err != nil {
		fmt.Println(err) // root device "UUID=…" did not appear within 10s (block devices seen: vda, vdb)
		return
	}
	fstype, err := blockdev.FSTypeOf(dev)
	if err != nil {
		fmt.Println(err) // not a file system: /dev/vdb (swap space)
		return
	}
	fmt.Println("mount", dev, "as", fstype)
}
