// Package serviceaccount issues and validates ServiceAccount tokens: JWTs
// signed with a key kept in the data dir, carrying upstream's claims
// (iss, sub, aud, exp, iat, nbf, jti and the private kubernetes.io claim),
// bound to the ServiceAccount and optionally to a Pod, Secret or Node.
//
// It also builds the issuer discovery documents (/.well-known/openid-configuration
// and /openid/v1/jwks) so that relying parties can verify the tokens.
package serviceaccount

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/util/keyutil"
)

// EnsureSigningKey loads the token signing key stored at path, creating an
// RSA 2048 key there first if none exists. Keeping the key across restarts
// keeps the tokens issued before valid.
func EnsureSigningKey(path string) (crypto.Signer, error) {
	if _, err := os.Stat(path); err == nil {
		key, err := keyutil.PrivateKeyFromFile(path)
		if err != nil {
			return nil, fmt.Errorf("loading the service account signing key %s: %w", path, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("the service account key %s cannot sign", path)
		}
		return signer, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading the service account signing key: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generating the service account signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("writing the service account signing key: %w", err)
	}
	return key, nil
}

// KeyID names a public key in the JWKS and in the tokens' "kid" header: the
// unpadded base64url SHA-256 of its PKIX encoding, stable across restarts.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}
