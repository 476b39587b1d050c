package relabel_test

import (
	"context"
	"fmt"
	"log"

	"github.com/imaboot/imaboot/relabel"
)

// Sign a mounted image as its own system will see it, with portable EVM signatures,
// hashing the configuration files dpkg lists.
func ExampleRun() {
	signer, err := relabel.LoadSigner("ima.key", "ima.der")
	if err != nil {
		log.Fatal(err) // nothing touched yet
	}
	mutable, err := relabel.LoadMutable("/mnt/img", relabel.MutableSources{Dpkg: true})
	if err != nil {
		log.Fatal(err)
	}
	s, err := relabel.Run(context.Background(), relabel.Options{
		Paths:       []string{"/mnt/img"},
		Root:        "/mnt/img",
		Signer:      signer,
		EVMPortable: true,
		Mutable:     mutable,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range s.Failures {
		fmt.Println(f.Path, f.Error)
	}
	fmt.Println(s.Labeled, "labeled,", s.AlreadyLabeled, "already right")
}

func ExampleVerify() {
	keys, err := relabel.LoadPublicKeys("/etc/keys/ima")
	if err != nil {
		log.Fatal(err)
	}
	rep, err := relabel.Verify(context.Background(), relabel.VerifyOptions{Paths: []string{"/usr/bin"}, Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range rep.Problems {
		fmt.Println(v.Path, v.IMA, v.EVM, v.Detail)
	}
}
