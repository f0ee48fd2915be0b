/*
 * Vendor knowledge in one place: what a CHAOS version string says a server
 * is, and the exact commands and configuration statements fix texts quote.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libknot/libknot.h>

#include <soasync/vendor.h>

const char *ss_vendor_name(ss_vendor_t v)
{
	switch (v) {
	case SS_VENDOR_BIND:
		return "bind";
	case SS_VENDOR_NSD:
		return "nsd";
	case SS_VENDOR_KNOT:
		return "knot";
	case SS_VENDOR_POWERDNS:
		return "powerdns";
	case SS_VENDOR_UNBOUND:
		return "unbound";
	case SS_VENDOR_OTHER:
		return "other";
	case SS_VENDOR_UNKNOWN:
		break;
	}
	return NULL;
}

ss_vendor_t ss_vendor_classify(const char *v)
{
	if (v == NULL || *v == '\0') {
		return SS_VENDOR_UNKNOWN;
	}
	if (strncasecmp(v, "NSD", 3) == 0) {
		return SS_VENDOR_NSD;
	}
	if (strncasecmp(v, "Knot", 4) == 0) {
		return SS_VENDOR_KNOT;
	}
	/* PowerDNS's version-string full / powerdns; its recursor is no
	 * authoritative server whose commands we could quote. */
	if (strncasecmp(v, "PowerDNS Recursor", 17) == 0) {
		return SS_VENDOR_OTHER;
	}
	if (strncasecmp(v, "PowerDNS", 8) == 0 || strncasecmp(v, "Served by PowerDNS", 18) == 0) {
		return SS_VENDOR_POWERDNS;
	}
	if (strncasecmp(v, "unbound", 7) == 0) {
		return SS_VENDOR_UNBOUND;
	}
	/* BIND answers its bare version: "9.18.28-1~deb12u2-Debian". */
	if ((v[0] == '9' && v[1] == '.') || strncasecmp(v, "BIND", 4) == 0) {
		return SS_VENDOR_BIND;
	}
	return SS_VENDOR_OTHER;
}

static void zone_for_cmd(const char *zone, char *out, size_t len)
{
	size_t n = strlen(zone);
	if (n > 1 && zone[n - 1] == '.') {
		n--;
	}
	snprintf(out, len, "%.*s", (int)n, zone);
}

const char *ss_fix_retransfer(ss_vendor_t v, char *buf, size_t len, const char *zone,
                              const ss_addr_t *addr)
{
	char z[KNOT_DNAME_TXT_MAXLEN + 1];
	char a[SS_ADDR_STRLEN];
	zone_for_cmd(zone, z, sizeof(z));
	switch (v) {
	case SS_VENDOR_BIND:
		snprintf(buf, len, "rndc retransfer %s", z);
		break;
	case SS_VENDOR_NSD:
		snprintf(buf, len, "nsd-control force_transfer %s", z);
		break;
	case SS_VENDOR_KNOT:
		snprintf(buf, len, "knotc zone-retransfer %s", z);
		break;
	case SS_VENDOR_POWERDNS:
		snprintf(buf, len, "pdns_control retrieve %s", z);
		break;
	default:
		snprintf(buf, len, "soasync notify %s --to %s", z,
		         ss_addr_format(addr, a, sizeof(a)));
		break;
	}
	return buf;
}

const char *ss_fix_reload(ss_vendor_t v, char *buf, size_t len, const char *zone)
{
	char z[KNOT_DNAME_TXT_MAXLEN + 1];
	zone_for_cmd(zone, z, sizeof(z));
	switch (v) {
	case SS_VENDOR_BIND:
		snprintf(buf, len, "rndc reload %s", z);
		break;
	case SS_VENDOR_NSD:
		snprintf(buf, len, "nsd-control reload %s", z);
		break;
	case SS_VENDOR_KNOT:
		snprintf(buf, len, "knotc zone-reload %s", z);
		break;
	case SS_VENDOR_POWERDNS:
		/* Measured on 4.7: after bind-reload-now it notifies only on its next
		 * xfr-cycle-interval (default 60 s); increase-serial fails on the
		 * bind backend, which has no way to write a zone. */
		snprintf(buf, len,
		         "pdns_control bind-reload-now %s, then pdns_control notify %s (bind "
		         "backend; a database backend serves a change at once: pdnsutil "
		         "increase-serial %s, then pdns_control notify %s)",
		         z, z, z, z);
		break;
	default:
		snprintf(buf, len,
		         "rndc reload %s, nsd-control reload %s, knotc zone-reload %s or "
		         "pdns_control bind-reload-now %s",
		         z, z, z, z);
		break;
	}
	return buf;
}

const char *ss_fix_transfer_acl(ss_vendor_t v)
{
	switch (v) {
	case SS_VENDOR_BIND:
		return "allow-transfer { ...; }; in the zone statement (named.conf)";
	case SS_VENDOR_NSD:
		return "provide-xfr: ADDRESS KEY in the zone (nsd.conf)";
	case SS_VENDOR_KNOT:
		return "an acl with action: transfer (address, key) referenced by the zone "
		       "(knot.conf)";
	case SS_VENDOR_POWERDNS:
		return "the zone's ALLOW-AXFR-FROM metadata (pdnsutil set-meta ZONE "
		       "ALLOW-AXFR-FROM ADDRESS; with a key: pdnsutil activate-tsig-key ZONE KEY "
		       "primary) or allow-axfr-ips in pdns.conf (every zone)";
	default:
		return "the server's transfer ACL";
	}
}

const char *ss_fix_allow_notify(ss_vendor_t v)
{
	switch (v) {
	case SS_VENDOR_BIND:
		return "BIND accepts NOTIFY from its primaries and from allow-notify { ...; };";
	case SS_VENDOR_NSD:
		return "NSD accepts NOTIFY per allow-notify: ADDRESS KEY in the zone";
	case SS_VENDOR_KNOT:
		return "Knot accepts NOTIFY only through an acl with action: notify";
	case SS_VENDOR_POWERDNS:
		/* 4.7 refuses NOTIFY from anyone but the zone's masters, whatever
		 * allow-notify-from says ("which is not a master (Refused)"). */
		return "PowerDNS accepts NOTIFY only from the zone's primaries: run "
		       "pdns_control retrieve ZONE on it, or list this host in its "
		       "trusted-notification-proxy (pdns.conf)";
	default:
		return "allow NOTIFY from the primary's address (and key) on that secondary";
	}
}

const char *ss_fix_transfer_source(ss_vendor_t v)
{
	switch (v) {
	case SS_VENDOR_BIND:
		return "on the secondary (BIND): primaries { ...; }; in the zone statement";
	case SS_VENDOR_NSD:
		return "on the secondary (NSD): request-xfr: ADDRESS KEY in the zone";
	case SS_VENDOR_KNOT:
		return "on the secondary (Knot): master: REMOTE in the zone, and the remote's "
		       "address";
	case SS_VENDOR_POWERDNS:
		/* pdnsutil change-secondary-zone-primary reports success on the bind
		 * backend but changes nothing there. */
		return "on the secondary (PowerDNS): masters { ...; }; in the zone of its "
		       "bind-config (then pdns_control rediscover), or pdnsutil "
		       "change-secondary-zone-primary ZONE ADDRESS with a database backend";
	default:
		return "on the secondary: the primaries it transfers from";
	}
}
