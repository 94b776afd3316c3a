#include "network/dns/answer.h"

#include <sys/socket.h>

#include <ldns/ldns.h>

#include <memory>
#include <optional>
#include <string>

#include "network/dns/ldns_ptr.h"

namespace husk::network::dns {

namespace {

PktPtr parse(const Packet& wire) {
    ldns_pkt* p = nullptr;
    if (ldns_wire2pkt(&p, wire.data(), wire.size()) != LDNS_STATUS_OK) return nullptr;
    return PktPtr(p);
}

std::string owner_text(const ldns_rr* rr) {
    MallocPtr<char> s(ldns_rdf2str(ldns_rr_owner(rr)));
    return s ? std::string(s.get()) : std::string();
}

// The reply skeleton to `q`: its id, question and RD flag; rcode `rcode`.
PktPtr reply_to(const ldns_pkt* q, ldns_pkt_rcode rcode, bool authoritative) {
    PktPtr r(ldns_pkt_new());
    if (!r) return nullptr;
    ldns_pkt_set_id(r.get(), ldns_pkt_id(q));
    ldns_pkt_set_qr(r.get(), true);
    ldns_pkt_set_opcode(r.get(), ldns_pkt_get_opcode(q));
    ldns_pkt_set_rd(r.get(), ldns_pkt_rd(q));
    ldns_pkt_set_ra(r.get(), true);
    ldns_pkt_set_aa(r.get(), authoritative);
    ldns_pkt_set_rcode(r.get(), static_cast<uint8_t>(rcode));
    ldns_rr_list* qs = ldns_pkt_question(q);
    for (size_t i = 0; qs && i < ldns_rr_list_rr_count(qs); ++i)
        ldns_pkt_push_rr(r.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(qs, i)));
    return r;
}

// A record of type `type` for the question's owner (its case kept, as resolvers that
// randomise it check) with one rdata field of `rdf_type` parsed from `value`.
bool push_answer(ldns_pkt* r, const ldns_rr* question, ldns_rr_type type, ldns_rdf_type rdf_type,
                 const std::string& value) {
    ldns_rdf* rdf = ldns_rdf_new_frm_str(rdf_type, value.c_str());
    if (!rdf) return false;
    ldns_rr* rr = ldns_rr_new();
    if (!rr) {
        ldns_rdf_deep_free(rdf);
        return false;
    }
    ldns_rr_set_owner(rr, ldns_rdf_clone(ldns_rr_owner(question)));
    ldns_rr_set_type(rr, type);
    ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(rr, kTtl);
    ldns_rr_push_rdf(rr, rdf);
    return ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
}

Packet wire(const ldns_pkt* p) {
    uint8_t* buf = nullptr;
    size_t size = 0;
    if (!p || ldns_pkt2wire(&buf, p, &size) != LDNS_STATUS_OK) return {};
    MallocPtr<uint8_t> owned(buf);
    return Packet(buf, buf + size);
}

}  // namespace

Decision decide(const Packet& query, const NameTable& names, const std::string& client) {
    PktPtr q = parse(query);
    if (!q || ldns_pkt_qr(q.get())) return {};
    if (ldns_pkt_get_opcode(q.get()) != LDNS_PACKET_QUERY ||
        ldns_rr_list_rr_count(ldns_pkt_question(q.get())) != 1)
        return {Decision::Kind::reply, wire(reply_to(q.get(), LDNS_RCODE_NOTIMPL, false).get())};
    const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(q.get()), 0);
    if (ldns_rr_get_class(question) != LDNS_RR_CLASS_IN) return {Decision::Kind::forward, {}};
    std::string name = owner_text(question);
    ldns_rr_type type = ldns_rr_get_type(question);
    if (type == LDNS_RR_TYPE_PTR) {
        std::optional<std::string> host = names.name_of(name, client);
        if (!host) return {Decision::Kind::forward, {}};
        PktPtr r = reply_to(q.get(), LDNS_RCODE_NOERROR, true);
        if (!r ||
            !push_answer(r.get(), question, LDNS_RR_TYPE_PTR, LDNS_RDF_TYPE_DNAME, *host + "."))
            return {Decision::Kind::reply, servfail(query)};
        return {Decision::Kind::reply, wire(r.get())};
    }
    if (!names.known(name, client)) return {Decision::Kind::forward, {}};
    // ours: A and AAAA records; a type it has none of (AAAA on an IPv4-only network, MX,
    // ...) has no data (NOERROR, no answer), as docker's responder says
    PktPtr r = reply_to(q.get(), LDNS_RCODE_NOERROR, true);
    if (!r) return {Decision::Kind::reply, servfail(query)};
    struct Family {
        ldns_rr_type type;
        ldns_rdf_type rdf;
        int af;
    };
    for (Family f : {Family{LDNS_RR_TYPE_A, LDNS_RDF_TYPE_A, AF_INET},
                     Family{LDNS_RR_TYPE_AAAA, LDNS_RDF_TYPE_AAAA, AF_INET6}}) {
        if (type != f.type && type != LDNS_RR_TYPE_ANY) continue;
        for (auto& ip : names.addresses(name, client, f.af))
            if (!push_answer(r.get(), question, f.type, f.rdf, ip))
                return {Decision::Kind::reply, servfail(query)};
    }
    return {Decision::Kind::reply, wire(r.get())};
}

Packet servfail(const Packet& query) {
    PktPtr q = parse(query);
    if (!q) return {};
    return wire(reply_to(q.get(), LDNS_RCODE_SERVFAIL, false).get());
}

}  // namespace husk::network::dns
