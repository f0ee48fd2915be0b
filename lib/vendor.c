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
	if (strncasecmp(v, "PowerDNS", 8) == 0) {
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
		return "allow-axfr-ips / the zone's ALLOW-AXFR-FROM metadata";
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
		return "on the secondary (PowerDNS): the zone's masters (pdnsutil show-zone)";
	default:
		return "on the secondary: the primaries it transfers from";
	}
}
