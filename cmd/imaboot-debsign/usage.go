package main

const usageSign = `usage: imaboot-debsign --key PEM --cert CERT [--hash sha256|sha512] [-o OUT] PKG.deb
       imaboot-debsign --key PEM --cert CERT [--hash ...] DIR
       imaboot-debsign --key PEM --cert CERT [--hash ...] --repo DIR
       imaboot-debsign keypkg --name NAME --version VER --cert CERT -o DIR

Signs every regular file of a .deb (and its maintainer scripts) for IMA and
stores the signatures in the package as the control member "imasigs".
Configuration (conffiles, files under /etc) is not signed unless executable.

  PKG.deb        sign one package, in place or into -o OUT
  DIR            sign every .deb under DIR, in place
  --repo DIR     sign every .deb under DIR, in place, then regenerate
                 DIR/Packages, Packages.gz and Release (apt-ftparchive)

  --key PEM      private key (RSA or ECDSA P-256/P-384, PEM, not encrypted)
  --cert CERT    its certificate (PEM or DER): the signatures' key id
  --hash ALGO    sha256 (default) or sha512
  -o OUT         output file (one package only)
  -q             no progress lines, only the summary and errors

Exit status: 0 all packages signed, 1 a package failed, 2 usage error.
`

const usageKeypkg = `usage: imaboot-debsign keypkg --name NAME --version VER --cert CERT -o DIR

Writes DIR/NAME-ima-signing-key_VER_all.deb, which installs the certificate
(DER) as /etc/keys/ima/NAME.der, where imaboot's initramfs hooks find it.

Exit status: 0 written, 1 failed, 2 usage error.
`
