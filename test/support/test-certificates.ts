// Certificates for the mutual-TLS tests, made with openssl at test time (nothing checked in): a
// test CA, the provider's TLS server certificate for 127.0.0.1, a client certificate the CA signed
// (tls_client_auth), a second client certificate of another key (the "wrong certificate") and a
// self-signed client certificate (self_signed_tls_client_auth, registered by its key).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestPki {
  ca: string;
  server: { key: string; cert: string };
  client: { key: string; cert: string; subjectDn: string };
  other: { key: string; cert: string };
  /** Self-signed (no CA): the client registers its key, with the certificate in `x5c`. */
  selfSigned: { key: string; cert: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ecKey(dir: string, name: string): void {
  openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`]);
}

/** A certificate for `name.key` with `subject`, signed by the test CA, with the given extensions. */
function issue(dir: string, name: string, subject: string, extensions: string): void {
  ecKey(dir, name);
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

/** Make a fresh test PKI in a temporary directory (removed before returning). */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'oauth-mtls-'));
  try {
    ecKey(dir, 'ca');
    openssl(dir, ['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=express-oauth2-session test CA', '-days', '2', '-sha256', '-out', 'ca.crt']);
    issue(dir, 'server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    issue(dir, 'client', '/CN=fapi-client/O=Test RP', 'extendedKeyUsage=clientAuth\n');
    issue(dir, 'other', '/CN=other-client', 'extendedKeyUsage=clientAuth\n');
    ecKey(dir, 'self');
    openssl(dir, ['req', '-x509', '-new', '-key', 'self.key', '-subj', '/CN=fapi-self-signed', '-days', '2', '-sha256', '-out', 'self.crt']);
    const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
    return {
      ca: read('ca.crt'),
      server: { key: read('server.key'), cert: read('server.crt') },
      // Node's X509Certificate#subject lists RDNs one per line; the test provider joins them with ",".
      client: { key: read('client.key'), cert: read('client.crt'), subjectDn: 'CN=fapi-client,O=Test RP' },
      other: { key: read('other.key'), cert: read('other.crt') },
      selfSigned: { key: read('self.key'), cert: read('self.crt') },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
