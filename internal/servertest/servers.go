package servertest

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tlskit/tlskit/lab"
)

// definition says how to install (which Debian package) and start one
// server.
type definition struct {
	name     string
	pkg      string   // the Debian package(s) .ci/run installs
	binaries []string // programs that must exist
	start    func(ctx context.Context, e *Env, dir string, srv *Server) error
}

func catalog() []definition {
	return []definition{
		{"postfix", "postfix", []string{"postfix"}, startPostfix},
		{"dovecot", "dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-managesieved", []string{"dovecot"}, startDovecot},
		{"slapd", "slapd", []string{"slapd"}, startSlapd},
		{"postgres", "postgresql", []string{pgBin + "/postgres", pgBin + "/initdb"}, startPostgres},
		{"mariadb", "mariadb-server", []string{"mariadbd"}, startMariaDB},
		{"prosody", "prosody", []string{"prosody"}, startProsody},
		{"vsftpd", "vsftpd", []string{"vsftpd"}, startVsftpd},
		{"inn", "inn2", []string{innBin + "/nnrpd", innBin + "/makehistory"}, startINN},
		{"inspircd", "inspircd", []string{"inspircd"}, startInspIRCd},
		{"ngircd", "ngircd", []string{"ngircd"}, startNgIRCd},
	}
}

func find(name string) (definition, bool) {
	for _, d := range catalog() {
		if d.name == name {
			return d, true
		}
	}
	return definition{}, false
}

// Where Debian keeps the programs that are not on PATH.
const (
	pgBin  = "/usr/lib/postgresql/15/bin"
	innBin = "/usr/lib/news/bin"
)

func addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }

// startPostfix runs one Postfix instance with a smtpd per variant,
// including one whose certificate cannot be loaded, so that it offers
// STARTTLS and answers 454 (refused), one that rejects the client in its
// greeting (554), one that defers EHLO (450) and one that speaks only a
// cipher suite Go's client does not.
func startPostfix(ctx context.Context, e *Env, dir string, srv *Server) error {
	if !e.root {
		return fmt.Errorf("postfix must be started as root (it drops to the postfix user itself)")
	}
	name := lab.ServerName("postfix")
	good, err := e.writeCert(dir, "good", name, false, "")
	if err != nil {
		return err
	}
	expired, err := e.writeCert(dir, "expired", name, true, "")
	if err != nil {
		return err
	}
	ports, err := e.freePorts(7)
	if err != nil {
		return err
	}
	conf, queue, data := filepath.Join(dir, "conf"), filepath.Join(dir, "queue"), filepath.Join(dir, "data")
	for _, d := range []string{conf, queue, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := e.chown("postfix", data); err != nil {
		return err
	}
	main := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %s
data_directory = %s
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = %s
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
notify_classes =
biff = no
maillog_file = /dev/stdout
multi_instance_directories =
smtpd_tls_cert_file = %s
smtpd_tls_key_file = %s
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
`, queue, data, name, good.cert, good.key)
	smtpd := func(port int, opts string) string {
		return fmt.Sprintf("127.0.0.1:%d inet n - n - - smtpd%s\n", port, opts)
	}
	master := smtpd(ports[0], "") +
		smtpd(ports[1], fmt.Sprintf(" -o smtpd_tls_cert_file=%s -o smtpd_tls_key_file=%s", expired.cert, expired.key)) +
		smtpd(ports[2], " -o smtpd_tls_security_level=none") +
		smtpd(ports[3], fmt.Sprintf(" -o smtpd_tls_cert_file=%s -o smtpd_tls_key_file=%s", filepath.Join(dir, "missing.pem"), filepath.Join(dir, "missing.key"))) +
		smtpd(ports[4], " -o smtpd_delay_reject=no -o smtpd_client_restrictions=reject") +
		smtpd(ports[5], " -o smtpd_delay_reject=no -o smtpd_helo_required=yes -o smtpd_helo_restrictions=defer") +
		smtpd(ports[6], " -o smtpd_tls_protocols=>=TLSv1.2,<=TLSv1.2 -o smtpd_tls_ciphers=high -o tls_high_cipherlist=ECDHE-ECDSA-AES128-CCM") +
		`pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
`
	if err := writeFile(filepath.Join(conf, "main.cf"), main); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(conf, "master.cf"), master); err != nil {
		return err
	}
	p, err := e.run("postfix", "", dir, nil, "postfix", "-c", conf, "start-fg")
	if err != nil {
		return err
	}
	// The master daemon runs in a session of its own: stop it the
	// Postfix way.
	p.onStop = func() { exec.Command("postfix", "-c", conf, "abort").Run() }
	srv.procs = append(srv.procs, p)
	if err := waitPorts(ctx, p, addr(ports[0]), addr(ports[1]), addr(ports[2]), addr(ports[3]), addr(ports[4]), addr(ports[5]), addr(ports[6])); err != nil {
		return err
	}
	for i, v := range []Variant{Good, Expired, NoTLS, Refused, TurnsAway, DefersHello, ClientUnsupported} {
		srv.targets = append(srv.targets, Target{Server: "postfix", Protocol: "smtp", Variant: v, Addr: addr(ports[i]), ServerName: name})
	}
	return nil
}

// startDovecot runs a Dovecot instance per variant, each serving IMAP,
// POP3, LMTP and ManageSieve.
func startDovecot(ctx context.Context, e *Env, dir string, srv *Server) error {
	if !e.root {
		return fmt.Errorf("dovecot must be started as root (it drops to dovecot and dovenull itself)")
	}
	name := lab.ServerName("dovecot")
	protos := []string{"imap", "pop3", "lmtp", "sieve"}
	for _, v := range []Variant{Good, Expired, NoTLS} {
		d := filepath.Join(dir, string(v))
		if err := os.MkdirAll(filepath.Join(d, "run"), 0o755); err != nil {
			return err
		}
		// Mail of the test users lives here (as nobody).
		for _, sub := range []string{"home", "mail"} {
			if err := os.MkdirAll(filepath.Join(d, sub), 0o1777); err != nil {
				return err
			}
			os.Chmod(filepath.Join(d, sub), 0o1777)
		}
		ports, err := e.freePorts(4)
		if err != nil {
			return err
		}
		ssl := "ssl = no"
		if v != NoTLS {
			c, err := e.writeCert(d, "server", name, v == Expired, "")
			if err != nil {
				return err
			}
			ssl = fmt.Sprintf("ssl = yes\nssl_cert = <%s\nssl_key = <%s", c.cert, c.key)
		}
		conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = tlskit-%[2]s
protocols = imap pop3 lmtp sieve
listen = 127.0.0.1
log_path = /dev/stderr
hostname = %[3]s
%[4]s
auth_mechanisms = plain
disable_plaintext_auth = yes
passdb {
  driver = static
  args = password=tlskit
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=%[1]s/home/%%u
}
mail_location = maildir:%[1]s/mail/%%u
service imap-login {
  inet_listener imap {
    port = %[5]d
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %[6]d
  }
  inet_listener pop3s {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    port = %[7]d
  }
  unix_listener lmtp {
    mode = 0600
  }
}
service managesieve-login {
  inet_listener sieve {
    port = %[8]d
  }
}
`, d, v, name, ssl, ports[0], ports[1], ports[2], ports[3])
		cf := filepath.Join(d, "dovecot.conf")
		if err := writeFile(cf, conf); err != nil {
			return err
		}
		p, err := e.run("dovecot-"+string(v), "", d, nil, "dovecot", "-F", "-c", cf)
		if err != nil {
			return err
		}
		srv.procs = append(srv.procs, p)
		for i, pr := range protos {
			srv.targets = append(srv.targets, Target{Server: "dovecot", Protocol: pr, Variant: v, Addr: addr(ports[i]), ServerName: name})
		}
		if err := waitPorts(ctx, p, addr(ports[0]), addr(ports[1]), addr(ports[2]), addr(ports[3])); err != nil {
			return err
		}
	}
	return nil
}

// startSlapd runs an OpenLDAP slapd per variant, as the openldap user.
func startSlapd(ctx context.Context, e *Env, dir string, srv *Server) error {
	name := lab.ServerName("slapd")
	for _, v := range []Variant{Good, Expired, NoTLS} {
		d := filepath.Join(dir, string(v))
		if err := os.MkdirAll(filepath.Join(d, "db"), 0o755); err != nil {
			return err
		}
		ports, err := e.freePorts(1)
		if err != nil {
			return err
		}
		tls := ""
		if v != NoTLS {
			c, err := e.writeCert(d, "server", name, v == Expired, "openldap")
			if err != nil {
				return err
			}
			tls = fmt.Sprintf("TLSCertificateFile %s\nTLSCertificateKeyFile %s\n", c.cert, c.key)
		}
		conf := fmt.Sprintf(`modulepath /usr/lib/ldap
moduleload back_mdb
include /etc/ldap/schema/core.schema
pidfile %[1]s/slapd.pid
%[2]sdatabase mdb
suffix "dc=tlskit,dc=test"
directory %[1]s/db
maxsize 10485760
`, d, tls)
		cf := filepath.Join(d, "slapd.conf")
		if err := writeFile(cf, conf); err != nil {
			return err
		}
		if err := e.chownTree("openldap", d); err != nil {
			return err
		}
		p, err := e.run("slapd-"+string(v), "openldap", d, nil, "slapd", "-f", cf, "-h", fmt.Sprintf("ldap://127.0.0.1:%d/", ports[0]), "-d", "0")
		if err != nil {
			return err
		}
		srv.procs = append(srv.procs, p)
		srv.targets = append(srv.targets, Target{Server: "slapd", Protocol: "ldap", Variant: v, Addr: addr(ports[0]), ServerName: name})
		if err := waitLDAP(ctx, p, addr(ports[0])); err != nil {
			return err
		}
	}
	return nil
}

// ldapWhoAmI returns an LDAP Who am I? extended request (RFC 4532),
// message 1.
func ldapWhoAmI() []byte {
	oid := "1.3.6.1.4.1.4203.1.11.3"
	req := append([]byte{0x80, byte(len(oid))}, oid...) // requestName [0]
	op := append([]byte{0x77, byte(len(req))}, req...)  // [APPLICATION 23] ExtendedRequest
	msg := append([]byte{0x02, 0x01, 0x01}, op...)      // messageID 1
	return append([]byte{0x30, byte(len(msg))}, msg...)
}

// waitLDAP waits until slapd answers an operation on addr, not only
// accepts connections: slapd listens before it opens its databases and
// serves, and on a loaded machine a first StartTLS sent in between waited
// longer than a test's deadline.
func waitLDAP(ctx context.Context, p *proc, addr string) error {
	if err := waitPorts(ctx, p, addr); err != nil {
		return err
	}
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			b := make([]byte, 1)
			_, err = c.Write(ldapWhoAmI())
			if err == nil {
				_, err = io.ReadFull(c, b)
			}
			c.Close()
			if err == nil && b[0] == 0x30 {
				return nil
			}
		}
		if p.exited() {
			return fmt.Errorf("%s exited: %v", p.name, p.cmd.ProcessState)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer an LDAP request on %s in time (%v)", p.name, addr, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startPostgres initialises one cluster, copies it per variant and runs a
// postgres per copy, as the postgres user.
func startPostgres(ctx context.Context, e *Env, dir string, srv *Server) error {
	name := lab.ServerName("postgres")
	owner := "postgres"
	if !e.root {
		owner = ""
	}
	tmpl := filepath.Join(dir, "template")
	if err := e.chown(owner, dir); err != nil {
		return err
	}
	if err := e.runOnce(ctx, owner, dir, nil, pgBin+"/initdb", "-D", tmpl, "-A", "trust", "-U", "postgres", "--no-sync", "--no-instructions"); err != nil {
		return err
	}
	for _, v := range []Variant{Good, Expired, NoTLS} {
		d := filepath.Join(dir, string(v))
		if err := e.runOnce(ctx, owner, dir, nil, "cp", "-a", tmpl, d); err != nil {
			return err
		}
		ports, err := e.freePorts(1)
		if err != nil {
			return err
		}
		args := []string{pgBin + "/postgres", "-D", d, "-k", d, "-h", "127.0.0.1", "-p", fmt.Sprint(ports[0]),
			"-c", "fsync=off", "-c", "shared_buffers=1MB", "-c", "max_connections=20", "-c", "log_min_messages=warning"}
		if v == NoTLS {
			args = append(args, "-c", "ssl=off")
		} else {
			c, err := e.writeCert(d, "server", name, v == Expired, owner)
			if err != nil {
				return err
			}
			args = append(args, "-c", "ssl=on", "-c", "ssl_cert_file="+c.cert, "-c", "ssl_key_file="+c.key)
		}
		p, err := e.run("postgres-"+string(v), owner, d, nil, args...)
		if err != nil {
			return err
		}
		srv.procs = append(srv.procs, p)
		srv.targets = append(srv.targets, Target{Server: "postgres", Protocol: "postgres", Variant: v, Addr: addr(ports[0]), ServerName: name})
	}
	for i, tg := range srv.targets {
		if err := waitPorts(ctx, srv.procs[i], tg.Addr); err != nil {
			return err
		}
	}
	return nil
}

// startMariaDB runs a mariadbd per variant on an empty data directory
// (no grant tables: nothing here logs in), as the mysql user.
func startMariaDB(ctx context.Context, e *Env, dir string, srv *Server) error {
	name := lab.ServerName("mariadb")
	owner := "mysql"
	if !e.root {
		owner = ""
	}
	for _, v := range []Variant{Good, Expired, NoTLS} {
		d := filepath.Join(dir, string(v))
		if err := os.MkdirAll(filepath.Join(d, "data"), 0o755); err != nil {
			return err
		}
		ports, err := e.freePorts(1)
		if err != nil {
			return err
		}
		args := []string{"mariadbd", "--no-defaults", "--datadir=" + filepath.Join(d, "data"), "--socket=" + filepath.Join(d, "sock"),
			"--pid-file=" + filepath.Join(d, "pid"), fmt.Sprintf("--port=%d", ports[0]), "--bind-address=127.0.0.1",
			"--skip-grant-tables", "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=8M",
			"--innodb-log-file-size=4M", "--log-error=" + filepath.Join(d, "error.log")}
		if v == NoTLS {
			args = append(args, "--skip-ssl")
		} else {
			c, err := e.writeCert(d, "server", name, v == Expired, owner)
			if err != nil {
				return err
			}
			args = append(args, "--ssl-cert="+c.cert, "--ssl-key="+c.key)
		}
		if err := e.chownTree(owner, d); err != nil {
			return err
		}
		p, err := e.run("mariadbd-"+string(v), owner, d, nil, args...)
		if err != nil {
			return err
		}
		srv.procs = append(srv.procs, p)
		srv.targets = append(srv.targets, Target{Server: "mariadb", Protocol: "mysql", Variant: v, Addr: addr(ports[0]), ServerName: name})
	}
	for i, tg := range srv.targets {
		if err := waitPorts(ctx, srv.procs[i], tg.Addr); err != nil {
			b, _ := os.ReadFile(filepath.Join(dir, string(tg.Variant), "error.log"))
			return fmt.Errorf("%w\n%s", err, b)
		}
	}
	return nil
}

// startProsody runs one Prosody with a virtual host per variant (the
// stream's 'to' picks the host and its certificate), as the prosody user.
func startProsody(ctx context.Context, e *Env, dir string, srv *Server) error {
	owner := "prosody"
	if !e.root {
		owner = ""
	}
	ports, err := e.freePorts(2)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return err
	}
	var hosts strings.Builder
	names := map[Variant]string{Good: lab.ServerName("prosody"), Expired: lab.ServerName("expired-prosody"), NoTLS: lab.ServerName("notls-prosody")}
	for _, v := range []Variant{Good, Expired, NoTLS} {
		n := names[v]
		if v == NoTLS {
			fmt.Fprintf(&hosts, "VirtualHost %q\n  modules_disabled = { \"tls\" }\n  c2s_require_encryption = false\n  s2s_require_encryption = false\n", n)
			continue
		}
		c, err := e.writeCert(dir, string(v), n, v == Expired, owner)
		if err != nil {
			return err
		}
		fmt.Fprintf(&hosts, "VirtualHost %q\n  ssl = { certificate = %q; key = %q }\n", n, c.cert, c.key)
	}
	conf := fmt.Sprintf(`pidfile = %[1]q
data_path = %[2]q
daemonize = false
log = { { levels = { min = "warn" }, to = "console" } }
interfaces = { "127.0.0.1" }
c2s_ports = { %[3]d }
s2s_ports = { %[4]d }
c2s_direct_tls_ports = {}
s2s_direct_tls_ports = {}
legacy_ssl_ports = {}
http_ports = {}
https_ports = {}
component_ports = {}
modules_enabled = { "tls"; "disco"; "dialback"; "saslauth" }
modules_disabled = { "s2s_bidi"; "posix"; "http"; "bosh"; "websocket" }
c2s_require_encryption = true
s2s_require_encryption = true
allow_registration = false
%[5]s`, filepath.Join(dir, "prosody.pid"), filepath.Join(dir, "data"), ports[0], ports[1], hosts.String())
	cf := filepath.Join(dir, "prosody.cfg.lua")
	if err := writeFile(cf, conf); err != nil {
		return err
	}
	if err := e.chownTree(owner, dir); err != nil {
		return err
	}
	p, err := e.run("prosody", owner, dir, nil, "prosody", "--config", cf)
	if err != nil {
		return err
	}
	srv.procs = append(srv.procs, p)
	if err := waitPorts(ctx, p, addr(ports[0]), addr(ports[1])); err != nil {
		return err
	}
	for _, v := range []Variant{Good, Expired, NoTLS} {
		srv.targets = append(srv.targets,
			Target{Server: "prosody", Protocol: "xmpp", Variant: v, Addr: addr(ports[0]), ServerName: names[v]},
			Target{Server: "prosody", Protocol: "xmpp-server", Variant: v, Addr: addr(ports[1]), ServerName: names[v]})
	}
	return nil
}

// startVsftpd runs a vsftpd per variant (anonymous, read-only).
func startVsftpd(ctx context.Context, e *Env, dir string, srv *Server) error {
	if !e.root {
		return fmt.Errorf("vsftpd must be started as root (it drops to its nopriv user itself)")
	}
	name := lab.ServerName("vsftpd")
	for _, v := range []Variant{Good, Expired, NoTLS} {
		d := filepath.Join(dir, string(v))
		empty := filepath.Join(d, "empty")
		if err := os.MkdirAll(empty, 0o755); err != nil {
			return err
		}
		ports, err := e.freePorts(1)
		if err != nil {
			return err
		}
		ssl := "ssl_enable=NO\n"
		if v != NoTLS {
			c, err := e.writeCert(d, "server", name, v == Expired, "")
			if err != nil {
				return err
			}
			ssl = fmt.Sprintf("ssl_enable=YES\nrsa_cert_file=%s\nrsa_private_key_file=%s\nallow_anon_ssl=YES\nforce_local_logins_ssl=NO\nforce_local_data_ssl=NO\nssl_tlsv1=YES\nssl_sslv2=NO\nssl_sslv3=NO\nrequire_ssl_reuse=NO\n", c.cert, c.key)
		}
		conf := fmt.Sprintf(`listen=YES
listen_address=127.0.0.1
listen_port=%d
background=NO
anonymous_enable=YES
local_enable=NO
write_enable=NO
secure_chroot_dir=%s
anon_root=%s
seccomp_sandbox=NO
ftpd_banner=tlskit test FTP server
%s`, ports[0], empty, empty, ssl)
		cf := filepath.Join(d, "vsftpd.conf")
		if err := writeFile(cf, conf); err != nil {
			return err
		}
		p, err := e.run("vsftpd-"+string(v), "", d, nil, "vsftpd", cf)
		if err != nil {
			return err
		}
		srv.procs = append(srv.procs, p)
		srv.targets = append(srv.targets, Target{Server: "vsftpd", Protocol: "ftp", Variant: v, Addr: addr(ports[0]), ServerName: name})
		if err := waitPorts(ctx, p, addr(ports[0])); err != nil {
			return err
		}
	}
	return nil
}

// startINN runs INN's reader daemon, nnrpd, standalone per variant (as
// the news user), over one empty news spool. INN 2.7 lists STARTTLS in its
// capabilities even without a certificate, and answers it with 580 "Error
// initializing TLS": that is its Refused variant; it has no NoTLS one.
func startINN(ctx context.Context, e *Env, dir string, srv *Server) error {
	name := lab.ServerName("inn")
	owner := "news"
	if !e.root {
		owner = ""
	}
	for _, d := range []string{"db", "overview", "spool/articles", "tmp", "run", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	active := "control 0000000000 0000000001 n\njunk 0000000000 0000000001 n\ntlskit.test 0000000000 0000000001 y\n"
	if err := writeFile(filepath.Join(dir, "db", "active"), active); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "spool", "tradspool.map"), ""); err != nil {
		return err
	}
	conf := func(etc, tls string) string {
		return fmt.Sprintf(`organization: "tlskit test"
pathhost: %[2]s
domain: lab.tlskit.test
mta: "/bin/true %%s"
pathnews: /usr/lib/news
pathbin: /usr/lib/news/bin
pathetc: %[3]s
pathrun: %[1]s/run
pathlog: %[1]s/log
pathdb: %[1]s/db
pathoverview: %[1]s/overview
pathspool: %[1]s/spool
patharticles: %[1]s/spool/articles
pathtmp: %[1]s/tmp
ovmethod: tradindexed
hismethod: hisv6
%[4]s`, dir, name, etc, tls)
	}
	readers := "auth \"all\" {\n    hosts: \"*\"\n    default: \"<local>\"\n}\naccess \"all\" {\n    users: \"*\"\n    newsgroups: \"*\"\n    access: \"R\"\n}\n"
	storage := "method tradspool {\n    newsgroups: *\n    class: 0\n}\n"
	setup := func(v Variant) (string, error) {
		etc := filepath.Join(dir, "etc-"+string(v))
		if err := os.MkdirAll(etc, 0o755); err != nil {
			return "", err
		}
		tls := ""
		if v != Refused {
			c, err := e.writeCert(etc, "server", name, v == Expired, owner)
			if err != nil {
				return "", err
			}
			tls = fmt.Sprintf("tlscertfile: %s\ntlskeyfile: %s\ntlscafile: %s\n", c.cert, c.key, c.chain)
		}
		for f, text := range map[string]string{"inn.conf": conf(etc, tls), "readers.conf": readers, "storage.conf": storage, "newsfeeds": "ME:*::\n", "inn-secrets.conf": "cancels {\n    canlockuser:  [ ]\n    canlockadmin: [ ]\n}\n"} {
			if err := writeFile(filepath.Join(etc, f), text); err != nil {
				return "", err
			}
		}
		return filepath.Join(etc, "inn.conf"), nil
	}
	confs := map[Variant]string{}
	for _, v := range []Variant{Good, Expired, Refused} {
		c, err := setup(v)
		if err != nil {
			return err
		}
		confs[v] = c
	}
	if err := e.chownTree(owner, dir); err != nil {
		return err
	}
	// The overview index nnrpd opens is created by rebuilding the (empty)
	// overview, as innd would on its first start.
	if err := e.runOnce(ctx, owner, dir, []string{"INNCONF=" + confs[Refused]}, innBin+"/makehistory", "-O", "-x", "-F"); err != nil {
		return err
	}
	for _, v := range []Variant{Good, Expired, Refused} {
		ports, err := e.freePorts(1)
		if err != nil {
			return err
		}
		p, err := e.run("nnrpd-"+string(v), owner, dir, []string{"INNCONF=" + confs[v]}, innBin+"/nnrpd", "-D", "-f", "-b", "127.0.0.1", "-p", fmt.Sprint(ports[0]))
		if err != nil {
			return err
		}
		srv.procs = append(srv.procs, p)
		srv.targets = append(srv.targets, Target{Server: "inn", Protocol: "nntp", Variant: v, Addr: addr(ports[0]), ServerName: name})
		if err := waitPorts(ctx, p, addr(ports[0])); err != nil {
			return err
		}
	}
	return nil
}

// startInspIRCd runs InspIRCd with its starttls module per certificate
// variant, as the irc user. (ngIRCd, the other IRC server in Debian, has no
// STARTTLS: it is the NoTLS variant, see startNgIRCd.)
func startInspIRCd(ctx context.Context, e *Env, dir string, srv *Server) error {
	name := lab.ServerName("inspircd")
	owner := "irc"
	if !e.root {
		owner = ""
	}
	for _, v := range []Variant{Good, Expired} {
		d := filepath.Join(dir, string(v))
		for _, sub := range []string{"data", "logs"} {
			if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
				return err
			}
		}
		ports, err := e.freePorts(1)
		if err != nil {
			return err
		}
		c, err := e.writeCert(d, "server", name, v == Expired, owner)
		if err != nil {
			return err
		}
		conf := fmt.Sprintf(`<server name="%[2]s" description="tlskit test" network="tlskit">
<admin name="tlskit" nick="tlskit" email="tlskit@lab.tlskit.test">
<bind address="127.0.0.1" port="%[3]d" type="clients">
<connect allow="*" timeout="60" pingfreq="120" maxchans="20" localmax="100" globalmax="100" useident="no" resolvehostnames="no">
<class name="Users" commands="*">
<power diepass="tlskit" restartpass="tlskit">
<files motd="%[1]s/motd.txt">
<path configdir="%[1]s" datadir="%[1]s/data" logdir="%[1]s/logs" moduledir="/usr/lib/inspircd/modules">
<pid file="%[1]s/inspircd.pid">
<dns timeout="1">
<module name="ssl_gnutls">
<module name="starttls">
<module name="cap">
<sslprofile name="Clients" provider="gnutls" certfile="%[4]s" keyfile="%[5]s" dhfile="" hash="sha256" requestclientcert="no">
<gnutls onrehash="no">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="%[1]s/logs/ircd.log">
`, d, name, ports[0], c.cert, c.key)
		cf := filepath.Join(d, "inspircd.conf")
		if err := writeFile(cf, conf); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(d, "motd.txt"), "tlskit test\n"); err != nil {
			return err
		}
		if err := e.chownTree(owner, d); err != nil {
			return err
		}
		p, err := e.run("inspircd-"+string(v), owner, d, nil, "inspircd", "--config", cf, "--nofork", "--nopid")
		if err != nil {
			return err
		}
		srv.procs = append(srv.procs, p)
		srv.targets = append(srv.targets, Target{Server: "inspircd", Protocol: "irc", Variant: v, Addr: addr(ports[0]), ServerName: name})
		if err := waitPorts(ctx, p, addr(ports[0])); err != nil {
			return err
		}
	}
	return nil
}

// startNgIRCd runs ngIRCd, which does not implement STARTTLS (its CAP LS
// lists only multi-prefix): the real server of the IRC NoTLS variant.
func startNgIRCd(ctx context.Context, e *Env, dir string, srv *Server) error {
	name := lab.ServerName("ngircd")
	owner := "irc"
	if !e.root {
		owner = ""
	}
	ports, err := e.freePorts(1)
	if err != nil {
		return err
	}
	conf := fmt.Sprintf(`[Global]
Name = %s
Info = tlskit test
Listen = 127.0.0.1
Ports = %d
PidFile = %s
[Options]
DNS = no
Ident = no
PAM = no
`, name, ports[0], filepath.Join(dir, "ngircd.pid"))
	cf := filepath.Join(dir, "ngircd.conf")
	if err := writeFile(cf, conf); err != nil {
		return err
	}
	if err := e.chownTree(owner, dir); err != nil {
		return err
	}
	p, err := e.run("ngircd", owner, dir, nil, "ngircd", "--config", cf, "--nodaemon")
	if err != nil {
		return err
	}
	srv.procs = append(srv.procs, p)
	srv.targets = append(srv.targets, Target{Server: "ngircd", Protocol: "irc", Variant: NoTLS, Addr: addr(ports[0]), ServerName: name})
	return waitPorts(ctx, p, addr(ports[0]))
}
