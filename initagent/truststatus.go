package initagent

import "strconv"

// TrustStatus is the status file's "trust": the chain from the firmware to
// the certificates loaded, when TRUST=ca.
type TrustStatus struct {
	Mode TrustMode     `json:"mode"`
	CA   TrustCAStatus `json:"ca"`
	// MachineKeyringTrusted: .machine is linked into
	// .secondary_trusted_keys, as when shim set MokListTrustedRT.
	MachineKeyringTrusted bool `json:"machine_keyring_trusted"`
	// Keyrings are the CA keyrings made inside _ima and _evm, with what
	// loaded into them: every certificate there was verified by the kernel
	// against the CA.
	Keyrings []TrustKeyringStatus `json:"keyrings"`
}

// TrustCAStatus is the owner's CA as the kernel holds it.
type TrustCAStatus struct {
	KeyID string `json:"key_id"` // TRUST_CA
	Found bool   `json:"found"`
	// Subject and Keyrings: the kernel's name for the CA and the trusted
	// keyrings holding it (".machine", ".secondary_trusted_keys").
	Subject  string   `json:"subject,omitempty"`
	Keyrings []string `json:"keyrings,omitempty"`
}

// TrustKeyringStatus is one CA keyring.
type TrustKeyringStatus struct {
	Name   string `json:"name"`   // _ima_ca
	Parent string `json:"parent"` // _ima
	// Closed is set once loaded and closed to further certificates.
	Closed       bool                `json:"closed"`
	Certificates []TrustedCertStatus `json:"certificates"`
}

// TrustedCertStatus is one certificate the kernel took into a CA keyring.
type TrustedCertStatus struct {
	File    string `json:"file"`
	Subject string `json:"subject"`
	KeyID   string `json:"key_id"` // what IMA signatures name it by
}

// json encodes t as json.MarshalIndent would, its closing brace at depth
// (statusjson.go).
func (t *TrustStatus) json(depth int) []byte {
	str := func(v string) []byte { return jsonQuote(nil, v) }
	boolean := func(v bool) []byte { return strconv.AppendBool(nil, v) }
	ca := []jsonField{{"key_id", str(t.CA.KeyID)}, {"found", boolean(t.CA.Found)}}
	if t.CA.Subject != "" {
		ca = append(ca, jsonField{"subject", str(t.CA.Subject)})
	}
	if len(t.CA.Keyrings) > 0 {
		items := make([][]byte, len(t.CA.Keyrings))
		for i, r := range t.CA.Keyrings {
			items[i] = str(r)
		}
		ca = append(ca, jsonField{"keyrings", jsonArray(depth+2, items)})
	}
	keyrings := []byte("null")
	if t.Keyrings != nil {
		items := make([][]byte, len(t.Keyrings))
		for i, k := range t.Keyrings {
			certs := []byte("null")
			if k.Certificates != nil {
				ci := make([][]byte, len(k.Certificates))
				for j, c := range k.Certificates {
					ci[j] = jsonObject(depth+4, []jsonField{{"file", str(c.File)}, {"subject", str(c.Subject)}, {"key_id", str(c.KeyID)}})
				}
				certs = jsonArray(depth+3, ci)
			}
			items[i] = jsonObject(depth+2, []jsonField{{"name", str(k.Name)}, {"parent", str(k.Parent)}, {"closed", boolean(k.Closed)}, {"certificates", certs}})
		}
		keyrings = jsonArray(depth+1, items)
	}
	return jsonObject(depth, []jsonField{
		{"mode", str(string(t.Mode))},
		{"ca", jsonObject(depth+1, ca)},
		{"machine_keyring_trusted", boolean(t.MachineKeyringTrusted)},
		{"keyrings", keyrings},
	})
}
