// A network's DNS responder (network/dns/): the names file and what a query gets. The
// queries are built and the replies read with ldns, as the responder itself does.
#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <sys/socket.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "network/dns/answer.h"
#include "network/dns/ldns_ptr.h"
#include "network/dns/names.h"

using namespace husk::network::dns;

namespace {

std::string text(char* s) {
    MallocPtr<char> owned(s);
    return s ? std::string(s) : std::string();
}

Packet query(const char* name, ldns_rr_type type, uint16_t id = 4242) {
    PktPtr q;
    ldns_pkt* p = nullptr;
    EXPECT_EQ(ldns_pkt_query_new_frm_str(&p, name, type, LDNS_RR_CLASS_IN, LDNS_RD),
              LDNS_STATUS_OK);
    q.reset(p);
    ldns_pkt_set_id(q.get(), id);
    uint8_t* buf = nullptr;
    size_t size = 0;
    EXPECT_EQ(ldns_pkt2wire(&buf, q.get(), &size), LDNS_STATUS_OK);
    MallocPtr<uint8_t> owned(buf);
    return Packet(buf, buf + size);
}

PktPtr parse(const Packet& wire) {
    ldns_pkt* p = nullptr;
    EXPECT_EQ(ldns_wire2pkt(&p, wire.data(), wire.size()), LDNS_STATUS_OK);
    return PktPtr(p);
}

// The answer section's rdata as text, one per record.
std::vector<std::string> answers(const ldns_pkt* p) {
    std::vector<std::string> out;
    ldns_rr_list* an = ldns_pkt_answer(p);
    for (size_t i = 0; i < ldns_rr_list_rr_count(an); ++i) {
        out.push_back(text(ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(an, i), 0))));
    }
    return out;
}

const NameTable kNames = NameTable::parse(format_names({
    {"10.89.0.2", {"web", "3f2a9c1d0b7e", "Front"}, {}},
    {"10.89.0.3", {"db", "9c1d0b7e3f2a"}, {}},
    {"10.89.0.4", {"front"}, {}},           // an alias two containers share
    {"10.90.0.9", {"cache"}, "10.89.0.2"},  // another network of web's only
}));

}  // namespace

TEST(NetworkDns, NamesFileRoundTripsAndScopesByClient) {
    EXPECT_EQ(format_names({{"10.1.0.2", {"a", "b"}, {}}, {"10.2.0.2", {"c"}, "10.1.0.2"}}),
              "10.1.0.2 a b\n@10.1.0.2 10.2.0.2 c\n");
    EXPECT_EQ(kNames.addresses("WEB.", "", AF_INET), std::vector<std::string>{"10.89.0.2"});
    EXPECT_EQ(kNames.addresses("front", "10.89.0.3", AF_INET),
              (std::vector<std::string>{"10.89.0.2", "10.89.0.4"}));
    EXPECT_TRUE(kNames.addresses("cache", "10.89.0.3", AF_INET).empty());
    EXPECT_FALSE(kNames.known("cache", "10.89.0.3"));
    EXPECT_EQ(kNames.addresses("cache", "10.89.0.2", AF_INET),
              std::vector<std::string>{"10.90.0.9"});
    EXPECT_EQ(kNames.name_of("3.0.89.10.in-addr.arpa.", ""), "db");
    EXPECT_FALSE(kNames.name_of("9.0.90.10.in-addr.arpa.", "10.89.0.3"));
    // lines without an address are no names
    EXPECT_FALSE(NameTable::parse("garbage web\n\n").known("web", ""));
}

TEST(NetworkDns, OurNamesAnsweredWithTheirIdCaseAndTtl) {
    Decision d = decide(query("Db.", LDNS_RR_TYPE_A), kNames, "10.89.0.2");
    ASSERT_EQ(d.kind, Decision::Kind::reply);
    PktPtr r = parse(d.packet);
    EXPECT_EQ(ldns_pkt_id(r.get()), 4242);
    EXPECT_TRUE(ldns_pkt_qr(r.get()));
    EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(answers(r.get()), std::vector<std::string>{"10.89.0.3"});
    const ldns_rr* rr = ldns_rr_list_rr(ldns_pkt_answer(r.get()), 0);
    EXPECT_EQ(ldns_rr_ttl(rr), kTtl);
    EXPECT_EQ(text(ldns_rdf2str(ldns_rr_owner(rr))), "Db.");  // the question's case (0x20)
    EXPECT_EQ(ldns_rr_list_rr_count(ldns_pkt_question(r.get())), 1U);
}

// A network made --ipv6: each member under both its addresses.
const NameTable kNames6 = NameTable::parse(format_names({
    {"10.89.0.2", {"web"}, {}},
    {"fd00:1:2::2", {"web"}, {}},
    {"fd00:1:2::3", {"six"}, {}},
    {"fd00:9::9", {"cache"}, "fd00:1:2::2"},
}));

TEST(NetworkDns, AaaaOfOurIpv6Names) {
    Decision d = decide(query("Web.", LDNS_RR_TYPE_AAAA), kNames6, "10.89.0.9");
    ASSERT_EQ(d.kind, Decision::Kind::reply);
    PktPtr r = parse(d.packet);
    EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(answers(r.get()), std::vector<std::string>{"fd00:1:2::2"});
    EXPECT_EQ(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(r.get()), 0)), LDNS_RR_TYPE_AAAA);
    // A of the same name: its IPv4 address only; ANY: both
    EXPECT_EQ(answers(parse(decide(query("web.", LDNS_RR_TYPE_A), kNames6, "").packet).get()),
              std::vector<std::string>{"10.89.0.2"});
    EXPECT_EQ(answers(parse(decide(query("web.", LDNS_RR_TYPE_ANY), kNames6, "").packet).get()),
              (std::vector<std::string>{"10.89.0.2", "fd00:1:2::2"}));
    // a name with an IPv6 address only: A is NODATA
    PktPtr a = parse(decide(query("six.", LDNS_RR_TYPE_A), kNames6, "").packet);
    EXPECT_EQ(ldns_pkt_get_rcode(a.get()), LDNS_RCODE_NOERROR);
    EXPECT_TRUE(answers(a.get()).empty());
    // scoped to a client by its IPv6 address, written in any form
    EXPECT_EQ(kNames6.addresses("cache", "fd00:1:2:0::2", AF_INET6),
              std::vector<std::string>{"fd00:9::9"});
    EXPECT_FALSE(kNames6.known("cache", "fd00:1:2::3"));
}

TEST(NetworkDns, PtrOfOurIpv6Addresses) {
    EXPECT_EQ(reverse_name("fd00:1:2::3"),
              "3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa");
    EXPECT_EQ(reverse_name("10.89.0.2"), "2.0.89.10.in-addr.arpa");
    EXPECT_EQ(reverse_name("nope"), "");
    Decision d =
        decide(query("3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.0.0.D.F.ip6.arpa.",
                     LDNS_RR_TYPE_PTR),
               kNames6, "");
    ASSERT_EQ(d.kind, Decision::Kind::reply);
    EXPECT_EQ(answers(parse(d.packet).get()), std::vector<std::string>{"six."});
}

TEST(NetworkDns, UpstreamsOfAClientThenOfTheNetwork) {
    std::string text =
        format_names({{"10.89.0.2", {"web"}, {}}},
                     {{"", {"192.0.2.1", "2001:db8::1"}}, {"10.89.0.2", {"192.0.2.9"}}});
    EXPECT_EQ(text,
              "10.89.0.2 web\nnameservers * 192.0.2.1 2001:db8::1\nnameservers 10.89.0.2 "
              "192.0.2.9\n");
    NameTable t = NameTable::parse(text);
    EXPECT_EQ(t.upstreams("10.89.0.2"), std::vector<std::string>{"192.0.2.9"});
    EXPECT_EQ(t.upstreams("10.89.0.3"), (std::vector<std::string>{"192.0.2.1", "2001:db8::1"}));
    // none given: the host's resolvers (an empty list); a bad server is skipped
    NameTable none = NameTable::parse("10.89.0.2 web\nnameservers 10.89.0.2 nope\n");
    EXPECT_TRUE(none.upstreams("10.89.0.2").empty());
    EXPECT_TRUE(none.upstreams("10.89.0.3").empty());
    // "nameservers" is no name
    EXPECT_FALSE(t.known("nameservers", ""));
}

TEST(NetworkDns, AaaaOfOurNameIsNoData) {
    Decision d = decide(query("web.", LDNS_RR_TYPE_AAAA), kNames, "10.89.0.3");
    ASSERT_EQ(d.kind, Decision::Kind::reply);
    PktPtr r = parse(d.packet);
    EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR);
    EXPECT_TRUE(answers(r.get()).empty());
}

TEST(NetworkDns, PtrOfOurAddresses) {
    Decision d = decide(query("2.0.89.10.in-addr.arpa.", LDNS_RR_TYPE_PTR), kNames, "");
    ASSERT_EQ(d.kind, Decision::Kind::reply);
    EXPECT_EQ(answers(parse(d.packet).get()), std::vector<std::string>{"web."});
}

TEST(NetworkDns, OtherNamesForwardedAndOtherNetworksNotOurs) {
    EXPECT_EQ(decide(query("example.org.", LDNS_RR_TYPE_A), kNames, "10.89.0.2").kind,
              Decision::Kind::forward);
    EXPECT_EQ(decide(query("cache.", LDNS_RR_TYPE_A), kNames, "10.89.0.3").kind,
              Decision::Kind::forward);
    EXPECT_EQ(decide(query("cache.", LDNS_RR_TYPE_A), kNames, "10.89.0.2").kind,
              Decision::Kind::reply);
}

TEST(NetworkDns, ServfailAndGarbage) {
    PktPtr r = parse(servfail(query("example.org.", LDNS_RR_TYPE_A, 7)));
    EXPECT_EQ(ldns_pkt_id(r.get()), 7);
    EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_SERVFAIL);
    EXPECT_EQ(decide(Packet{1, 2, 3}, kNames, "").kind, Decision::Kind::drop);
    EXPECT_TRUE(servfail(Packet{1, 2, 3}).empty());
    // a reply sent to us is no query
    Packet reply = decide(query("web.", LDNS_RR_TYPE_A), kNames, "").packet;
    EXPECT_EQ(decide(reply, kNames, "").kind, Decision::Kind::drop);
}
