package serviceaccount

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// header is a JWS compact header.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
}

var b64 = base64.RawURLEncoding

// sign serializes claims as an ES256 JWS in compact form.
func sign(key *ecdsa.PrivateKey, kid string, claims any) (string, error) {
	h, err := json.Marshal(header{Alg: "ES256", Kid: kid})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(p)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig), nil
}

// errNotOurs: the string is not a JWS at all, or not one of ours
// (another algorithm); other authenticators may know it.
var errNotOurs = errors.New("not a service account token")

// parseUnverified splits a compact JWS and decodes its header and payload.
func parseUnverified(tok string) (header, []byte, []byte, string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return header{}, nil, nil, "", errNotOurs
	}
	hb, err := b64.DecodeString(parts[0])
	if err != nil {
		return header{}, nil, nil, "", errNotOurs
	}
	var h header
	if err := json.Unmarshal(hb, &h); err != nil {
		return header{}, nil, nil, "", errNotOurs
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return header{}, nil, nil, "", errNotOurs
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return header{}, nil, nil, "", errNotOurs
	}
	return h, payload, sig, parts[0] + "." + parts[1], nil
}

// verify checks an ES256 signature over input.
func verify(pub *ecdsa.PublicKey, input string, sig []byte) error {
	if len(sig) != 64 {
		return fmt.Errorf("invalid signature")
	}
	sum := sha256.Sum256([]byte(input))
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, sum[:], r, s) {
		return fmt.Errorf("invalid signature")
	}
	return nil
}
