"""Writes the zone-file style corpus of tests/data/serial and expected.json.

Each case is a template with @@S@@ where the SOA serial's digits go; the
byte offset of the marker is recorded in expected.json, so the tests know
where the serial is without asking soasync. Run it after adding a case:
    /usr/bin/python3 tests/data/serial/make_corpus.py
"""
import json, os
D = os.path.dirname(os.path.abspath(__file__))
M = '@@S@@'
cases = {}
def add(name, tmpl, serial, crlf=False, extra=None, enc='utf-8'):
    assert tmpl.count(M) == 1, name
    if crlf:
        tmpl = tmpl.replace('\n', '\r\n')
    off = tmpl.encode(enc).index(M.encode(enc))
    data = tmpl.replace(M, str(serial) if isinstance(serial, int) else serial).encode(enc)
    open(os.path.join(D, name), 'wb').write(data)
    val = int(serial)
    cases[name] = {'offset': off, 'serial': val, 'digits': str(serial)}
    if extra:
        cases[name].update(extra)

add('bind-classic.example.com.zone', """; BIND 9 style zone for example.com
; last change: bumped serial 2024010101 -> 2024010102 (see ticket 2024010102)
$TTL 86400      ; 1 day
$ORIGIN example.com.
@               IN      SOA     ns1.example.com. hostmaster.example.com. (
                                @@S@@ ; serial
                                10800      ; refresh (3 hours)
                                3600       ; retry (1 hour)
                                604800     ; expire (1 week)
                                300        ; minimum (5 minutes)
                                )
                IN      NS      ns1.example.com.
                IN      NS      ns2.example.net.
                IN      MX      10 mail.example.com.
ns1             IN      A       192.0.2.53
mail            IN      A       192.0.2.25
www             IN      A       192.0.2.80
                IN      AAAA    2001:db8::80
""", 2024010102)

add('oneline.zone', """$ORIGIN example.org.
$TTL 3600
example.org. 3600 IN SOA ns.example.org. admin.example.org. @@S@@ 7200 3600 1209600 3600
example.org. 3600 IN NS ns.example.org.
ns.example.org. 3600 IN A 198.51.100.1
""", 2023120401)

add('class-before-ttl.zone', """$ORIGIN example.net.
@ IN 3600 SOA ns1 hostmaster ( @@S@@ 3600 900 604800 3600 )
@ IN 3600 NS ns1
ns1 IN 3600 A 203.0.113.1
www 300 IN A 203.0.113.80
""", 1712345678)

add('db.example.info', """; no $ORIGIN, no $TTL, no TTL, no class: the file name gives the origin
@ SOA ns1.example.info. hostmaster.example.info. @@S@@ 1h 15m 1w 1h
@ NS ns1.example.info.
ns1 A 192.0.2.7
""", 42)

add('serial-alone.example.com.zone', """$TTL 1h
$ORIGIN example.com.
@ IN SOA ns1 hostmaster (
@@S@@
3600
900
604800
3600
)
@ IN NS ns1
ns1 IN A 192.0.2.1
""", 2024061500)

add('crlf.example.com.zone', """; edited on Windows
$TTL 3600
$ORIGIN example.com.
@   IN  SOA ns1.example.com. hostmaster.example.com. (
        @@S@@  ; serial
        3600 900 604800 300 )
    IN  NS  ns1.example.com.
ns1 IN  A   192.0.2.1
txt IN  TXT "line with 2024030501 inside"
""", 2024030501, crlf=True)

add('digits-elsewhere.example.com.zone', """; serial 2024010101 was set on 2024-01-01; next is 2024010102
$ORIGIN example.com.
$TTL 2024010101
@ IN SOA ns2024010101.example.com. h2024010101.example.com. ( ; 2024010101
  ; 2024010101 2024010101
  @@S@@ ; 2024010101
  2024010101 ; refresh
  2024010101 ; retry
  2024010101 ; expire
  2024010101 ; minimum
)
@ IN NS ns2024010101
ns2024010101 IN A 192.0.2.1
2024010101 IN TXT "2024010101" "( 2024010101 ; )"
_2024010101._tcp IN SRV 0 0 2024 2024010101.example.com.
""", 2024010101)

add('escaped-rname.example.com.zone', """$ORIGIN example.com.
$TTL 3600
@ IN SOA ns\\0491.example.com. john\\.doe.example.com. ( @@S@@ 3600 900 604800 3600 )
@ IN NS ns1
ns1 IN A 192.0.2.1
a\\;b IN TXT "semicolon\\;in \\"quotes\\""
""", 1000)

add('glued-paren.example.com.zone', """$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1 hostmaster (@@S@@
                         3600 900 604800 3600)
@ IN NS ns1
ns1 IN A 192.0.2.1
""", 2024010101)

add('comments-in-parens.example.com.zone', """$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1.example.com. hostmaster.example.com. (
; the serial follows
; it is YYYYMMDDnn: 2020020200
        ; indented comment (with parens) ; and ;;;
        @@S@@
; refresh
        3600
; retry
        900

; expire
        604800
; minimum
        3600
)
@ IN NS ns1
ns1 IN A 192.0.2.1
""", 2020020201)

add('utf8-comments.example.com.zone', """; Zóna pro příklad — správce: Jiří Novák ✓
; ゾーンファイル 2024050101
$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1 hostmaster ( ; Серийный номер ↓
    @@S@@ ; número de série ☃
    3600 900 604800 3600 ) ; fin ✔
@ IN NS ns1 ; ★
ns1 IN A 192.0.2.1
""", 2024050101)

add('no-final-newline.example.com.zone', """$ORIGIN example.com.
$TTL 3600
www IN A 192.0.2.80
@ IN NS ns1
@ IN SOA ns1 hostmaster @@S@@ 3600 900 604800 3600""", 77)

add('ttl-units.example.com.zone', """$TTL 1D
$ORIGIN example.com.
@ 1H IN SOA ns1 hostmaster ( @@S@@ 3h 1h 1w2d 5m )
@ 1h30m IN NS ns1
ns1 2W IN A 192.0.2.1
""", 3600000000)

open(os.path.join(D, 'include-before.records'), 'w').write(
"""; included before the SOA
www IN A 192.0.2.80
mail IN A 192.0.2.25 ; ( not a paren
""")
add('include-before.example.com.zone', """$ORIGIN example.com.
$TTL 3600
$INCLUDE include-before.records
$INCLUDE "include-before.records" www.example.com.
@ IN SOA ns1 hostmaster ( @@S@@ 3600 900 604800 3600 )
@ IN NS ns1
ns1 IN A 192.0.2.1
""", 12, extra={'include': True})

add('soa-not-first.example.com.zone', """$ORIGIN example.com.
$TTL 3600
www IN A 192.0.2.80
txt IN TXT "SOA ns1 hostmaster 5 1 2 3 4"
@ IN NS ns1
@ IN MX ( 10
          mail )
@ IN SOA ns1 hostmaster ( @@S@@ 3600 900 604800 3600 )
ns1 IN A 192.0.2.1
""", 5)

add('tabs.example.com.zone', "$ORIGIN\texample.com.\n$TTL\t3600\n@\tIN\tSOA\tns1\thostmaster\t(\n\t\t\t@@S@@\t; serial\n\t\t\t3600\t; refresh\n\t\t\t900\t; retry\n\t\t\t604800\t; expire\n\t\t\t3600\t)\t; minimum\n\tIN\tNS\tns1\nns1\tIN\tA\t192.0.2.1\n", 2024022901)

add('nsd-style.example.com.zone', """$ORIGIN example.com.
$TTL 86400
example.com.    IN SOA  ns1.example.com. noc.example.com. (
    @@S@@ 28800 7200 604800 86400 )
example.com.    IN NS   ns1.example.com.
ns1             IN A    192.0.2.1
""", 1)

add('knot-style.example.com.zone', """example.com.\t3600\tSOA\tns1.example.com. hostmaster.example.com. @@S@@ 3600 900 604800 3600
example.com.\t3600\tNS\tns1.example.com.
ns1.example.com.\t3600\tA\t192.0.2.1
""", 1716200000)

add('lowercase.example.com.zone', """$origin example.com.
$ttl 3600
@ in soa ns1 hostmaster ( @@S@@ 3600 900 604800 3600 )
@ in ns ns1
ns1 in a 192.0.2.1
""", 99)

add('no-owner.example.com.zone', """$ORIGIN example.com.
$TTL 3600
example.com. IN NS ns1
             IN SOA ns1 hostmaster @@S@@ 3600 900 604800 3600
ns1 IN A 192.0.2.1
""", 2024010199)

add('glued-comment.example.com.zone', """$ORIGIN example.com.
@ 3600 IN SOA ns1 hostmaster (
 @@S@@;serial
 3600;refresh
 900;retry
 604800;expire
 3600);minimum
@ 3600 IN NS ns1
""", 2024010101)

add('fields-on-lines.example.com.zone', """$ORIGIN example.com.
$TTL 3600
@ IN SOA (
    ns1.example.com.
    hostmaster.example.com.
    @@S@@
    3600
    900
    604800
    3600
)
@ IN NS ns1
""", 1234567890)

add('leading-zeros.example.com.zone', """$ORIGIN example.com.
@ 3600 IN SOA ns1 hostmaster @@S@@ 3600 900 604800 3600
@ 3600 IN NS ns1
""", '0000000042')

add('max-serial.example.com.zone', """$ORIGIN example.com.
@ 3600 IN SOA ns1 hostmaster @@S@@ 3600 900 604800 3600
@ 3600 IN NS ns1
""", 4294967295)

add('signed.example.com.zone', """$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1 hostmaster ( @@S@@ 3600 900 604800 3600 )
  IN RRSIG SOA 13 2 3600 20240201000000 20240101000000 12345 example.com. ( 
     20240101AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA== )
@ IN NS ns1
@ IN DNSKEY 257 3 13 ( mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ== ) ; KSK id 2024
ns1 IN A 192.0.2.1
""", 2024010101)

add('blank-lines-and-spaces.example.com.zone', """

; leading blank lines and comments

$ORIGIN example.com.    ; trailing comment on a directive
$TTL 3600

@    IN   SOA   ns1   hostmaster   (   @@S@@   3600   900   604800   3600   )   ;   spaces   
   ; an indented comment line, then blanks
\t  \t
@ IN NS ns1

""", 314159)

add('paren-residue.example.com.zone', """$ORIGIN example.com.
$TTL 3600
@ IN MX ( 10
          mail.example.com.
        ) ; closing parenthesis on its own line
txt IN TXT ( "a (" "b ;"
             "c )" )
@ IN SOA ns1 hostmaster (
        @@S@@
        3600 900 604800
        3600
        ) ; the SOA closes on its own line too
@ IN NS ns1
""", 2024111111)

add('latin1-comments.example.com.zone', """; Zone für Beispiel, geprüft à la main © 2024
$ORIGIN example.com.
@ 3600 IN SOA ns1 hostmaster ( @@S@@ ; Seriennummer éè
  3600 900 604800 3600 ) ; ÿþ
@ 3600 IN NS ns1
""", 2024070701, enc='latin-1')

json.dump(cases, open(os.path.join(D, 'expected.json'), 'w'), indent=1, sort_keys=True)
print(len(cases), 'cases')
