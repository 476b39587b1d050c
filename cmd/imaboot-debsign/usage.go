package main

const usageSign = `Usage: imaboot-debsign --key PEM --cert CERT [--hash-algo sha256|sha512] [-o OUT] PKG.deb
       imaboot-debsign --key PEM --cert CERT [--hash-algo ...] DIR
       imaboot-debsign --key PEM --cert CERT [--hash-algo ...] --repo DIR
       imaboot-debsign keypkg --name NAME --version VER --cert CERT [--ca CA] -o DIR
       imaboot-debsign mirror [--config FILE] [OPTIONS]   (see mirror --help)

Signs every regular file of a .deb (and its maintainer scripts) for IMA and
stores the signatures in the package as the control member "imasigs".
Configuration (conffiles, files under /etc) is not signed unless executable.
Paths are stored as dpkg installs them ("./usr//bin/./x" is /usr/bin/x); a
package with a ".." in a file name is refused; files whose names a manifest
cannot hold (a newline) are counted as dropped. Replacing an imasigs member
signed by another key is said in a warning.

  PKG.deb        sign one package, in place or into -o OUT (a symlink is
                 followed: its target is signed, the symlink stays)
  DIR            sign every .deb under DIR, in place; a *.deb symlink to a
                 package under DIR is that package, any other is a failure
  --repo DIR     sign every .deb under DIR, in place, then regenerate
                 DIR/Packages, Packages.gz and Release (apt-ftparchive)
  --key PEM      private key (RSA or ECDSA P-256/P-384, PEM, not encrypted)
  --cert CERT    its certificate (PEM or DER): the signatures' key id
  --hash-algo ALGO
                 sha256 (default) or sha512 (--hash is its older spelling)
  -o OUT         output file (one package only)
  -q, --quiet    no progress lines, only the summary, warnings and errors

Exit status: 0 all packages signed; 1 a package failed (listed); 2 unusable
input or setup (a bad flag, a key that does not match its certificate),
nothing signed. The same for every imaboot command: docs/command-line.md.
`

const usageKeypkg = `Usage: imaboot-debsign keypkg --name NAME --version VER --cert CERT [--ca CA] -o DIR

Writes DIR/NAME-ima-signing-key_VER_all.deb (DIR is created if missing),
which installs the certificate (DER) as /etc/keys/ima/NAME.der, where
imaboot's initramfs hooks find it, and has the initramfs rebuilt
(update-initramfs trigger) so a new certificate is there at the next boot.

  --ca CA   the owner's CA that signed CERT (TRUST=ca, imaboot-ca): the
            package is written only if the kernel will accept CERT under
            that CA, and also installs the CA's certificate as
            /usr/share/imaboot/ca/NAME.der (for mokutil --import)

Exit status: 0 written, 1 failed, 2 unusable input (docs/command-line.md).
`

const usageMirror = `Usage: imaboot-debsign mirror [--config FILE] [OPTIONS]

Publishes a signing mirror of a local Debian archive: the same layout
(dists/SUITE/{InRelease,Release,Release.gpg}, COMPONENT/binary-ARCH/Packages
in every compression upstream had, by-hash/, pool/) with every .deb signed
for IMA, the indexes regenerated, Release signed by the mirror's OpenPGP key,
and the certificate's key package added. Upstream's Release is checked
against --upstream-keyring, each index against Release, each .deb against
its index. Incremental (packages signed before are reused), atomic (the new
dists/ is switched in by one rename), resumable (an interrupted run keeps
what it signed). Every option is also a config file key (Key: value lines).

  --config FILE                  read the options from FILE; flags override it
  --upstream DIR                 Upstream: the local archive (debmirror, apt-mirror)
  --basedir DIR                  Basedir: where the mirror is published
  --suites LIST                  Suites: e.g. bookworm,bookworm-updates
  --components LIST              Components: e.g. main
  --architectures LIST           Architectures: e.g. amd64
  --signing-key FILE             Signingkey: OpenPGP secret key (gpg --export-secret-keys)
  --signing-key-passphrase-file FILE
                                 SigningkeyPasswordFile: its passphrase (first line)
  --key PEM                      Key: the IMA signing key (RSA or ECDSA, PEM)
  --cert CERT                    Certificate: its certificate (PEM or DER)
  --hash-algo ALGO               Hash: sha256 (default) or sha512 (--hash is its
                                 older spelling)
  --workers N                    Workers: packages signed at once (default: CPUs;
                                 --threads and Threads: are its older spellings)
  --upstream-keyring FILES       UpstreamKeyring: keyrings upstream's Release must
                                 be signed by (Debian: /usr/share/keyrings/debian-archive-keyring.gpg)
  --allow-unverified-upstream    AllowUnverifiedUpstream: no keyring, sign what is there
  --origin NAME, --label NAME    Origin, Label of the mirror's Release (default upstream's)
  --keypkg-name NAME             KeyPackage: NAME-ima-signing-key (default from Origin)
  --keypkg-version VER           KeyPackageVersion (default: the certificate's date)
  --publish-unsigned             PublishUnsigned: publish a package that cannot be
                                 signed as upstream made it instead of leaving it out
  -q, --quiet                    no progress lines; failures and the summary only

The public key is written to BASEDIR/mirror-keyring.gpg (for apt's
signed-by=). State (the store of signed packages, the cache, the lock) is in
BASEDIR/.imaboot-mirror: do not serve it.

Exit status: 0 every package published signed; 1 some packages failed
(named on stderr; the rest is published), or storing or publishing failed
(the error says whether the new dists/ went in); 2 unusable configuration,
keys, key package name or upstream, found before anything was written
(nothing published). The same for every imaboot command:
docs/command-line.md.
`
