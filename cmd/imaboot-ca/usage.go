package main

const usage = `Usage: imaboot-ca new --subject NAME [-o PREFIX] [--bits N] [--days N]
       imaboot-ca issue --ca CA.pem --ca-key CA.key --subject NAME [-o PREFIX] [--bits N] [--days N]
       imaboot-ca verify --ca CA CERT...
       imaboot-ca enroll --ca CA.der
       imaboot-ca check (--key-id ID | --ca CA)

The owner's side of imaboot's trust chain (TRUST=ca, docs/trust-chain.md):
a CA the firmware vouches for, enrolled once on each machine as a Machine
Owner Key, and release certificates it signs, which the boot agent alone
lets into _ima. A new release certificate needs no firmware step.

  new      make the owner's CA (RSA, may sign certificates only):
           PREFIX.key (mode 0600: keep it offline), PREFIX.pem, PREFIX.der
           (default PREFIX owner-ca); prints its key id and how to enroll it
  issue    make a release certificate signed by the CA (default PREFIX
           release): the key that signs files and packages (imaboot-debsign,
           imaboot-relabel, evmctl)
  verify   check that each CERT is signed by the CA the way the kernel
           checks it under TRUST=ca
  enroll   print the steps that enroll the CA on a machine (mokutil
           --import, MokManager) and the imaboot.conf lines
  check    on the machine, as root: Secure Boot on, shim's MokListTrustedRT
           set, the CA in the kernel's .machine keyring

  --subject NAME   the certificate's common name
  --bits N         RSA key size (default 3072 for the CA, 2048 for a release
                   certificate)
  --days N         validity (default 20 years for the CA, 5 for a release
                   certificate; the kernel, shim and MokManager ignore it)
  --ca CA          the CA's certificate, PEM or DER
  --ca-key KEY     the CA's private key (PEM, not encrypted)
  --key-id ID      the CA's key id: its SubjectKeyIdentifier in hex (TRUST_CA)
  -o PREFIX        where new and issue write PREFIX.key, .pem, .der (never
                   over an existing file)

Exit status: 0 done (check: everything in place), 1 failed (verify: a
certificate the kernel would refuse; check: something missing), 2 unusable
input or setup (a bad flag, an unreadable certificate, a key that does not
match), nothing written. The same for every imaboot command:
docs/command-line.md.
`
