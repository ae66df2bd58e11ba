"""Kinds of e-mail address that matter for a lead: free providers, throwaway domains and shared
role mailboxes. The verify stage (`email_kind`) and the enrichment (`company_domain`) both ask here.

Disposable (throwaway) domains come from the maintained `disposable-email-domains` package; the
free-mail and role lists are ours, kept to what is common in the markets we serve (NL, BE, DE, FR,
UK, US).
"""

from __future__ import annotations

import disposable_email_domains

# Mailbox providers for consumers: an address there says nothing about an employer. Exact
# domains, plus brands matched under any country domain (yahoo.fr, hotmail.co.uk, gmx.at).
_FREE_MAIL_TEXT = """
    me.com mac.com mail.com email.com usa.com inbox.com fastmail.com fastmail.fm tutanota.com
    tutanota.de tuta.io pm.me hey.com mailbox.org posteo.de posteo.net hushmail.com zoho.com
    ziggo.nl kpnmail.nl kpnplanet.nl planet.nl home.nl hetnet.nl casema.nl chello.nl upcmail.nl
    xs4all.nl zeelandnet.nl quicknet.nl online.nl tele2.nl telfort.nl solcon.nl caiway.nl
    kabelfoon.nl freeler.nl wxs.nl versatel.nl delta.nl zonnet.nl
    telenet.be skynet.be proximus.be scarlet.be base.be voo.be belgacom.net
    web.de t-online.de freenet.de arcor.de online.de vodafone.de kabelmail.de 1und1.de
    orange.fr wanadoo.fr free.fr laposte.net sfr.fr neuf.fr bbox.fr club-internet.fr numericable.fr
    libero.it virgilio.it alice.it tiscali.it tin.it
    btinternet.com sky.com virginmedia.com talktalk.net ntlworld.com blueyonder.co.uk
    comcast.net verizon.net att.net sbcglobal.net bellsouth.net cox.net charter.net
    earthlink.net juno.com optonline.net
    qq.com 163.com 126.com sina.com naver.com daum.net hanmail.net
    mail.ru bk.ru list.ru inbox.ru rambler.ru seznam.cz wp.pl o2.pl onet.pl interia.pl
    bluewin.ch hispeed.ch sunrise.ch aon.at chello.at telia.com online.no
"""
_FREE_MAIL_BRANDS_TEXT = """
    gmail googlemail hotmail outlook live msn windowslive yahoo ymail rocketmail aol gmx icloud
    protonmail proton yandex
"""
FREE_MAIL_DOMAINS = frozenset(_FREE_MAIL_TEXT.split())
FREE_MAIL_BRANDS = frozenset(_FREE_MAIL_BRANDS_TEXT.split())
_SECOND_LEVELS = frozenset({"co", "com", "net", "org", "ne", "or"})
DISPOSABLE_DOMAINS: frozenset[str] = frozenset(disposable_email_domains.blocklist)


def domain_suffixes(domain: str) -> list[str]:
    """ "a.b.acme.nl" → ["a.b.acme.nl", "b.acme.nl", "acme.nl"]: the domain and its parents."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(max(len(labels) - 1, 1))]


def is_free_mail(domain: str) -> bool:
    """A consumer mailbox provider (gmail.com, hotmail.co.uk, ziggo.nl, …)."""
    if domain in FREE_MAIL_DOMAINS:
        return True
    brand, _dot, rest = domain.partition(".")
    if brand not in FREE_MAIL_BRANDS or not rest:
        return False
    parts = rest.split(".")
    return len(parts) == 1 or (len(parts) == 2 and parts[0] in _SECOND_LEVELS)


def is_disposable(domain: str) -> bool:
    """A throw-away mailbox domain (the disposable-email-domains list), or a subdomain of one."""
    return any(suffix in DISPOSABLE_DOMAINS for suffix in domain_suffixes(domain))


ROLE_LOCAL_PARTS = frozenset(
    {
        "info",
        "sales",
        "admin",
        "administrator",
        "office",
        "contact",
        "support",
        "help",
        "hello",
        "hallo",
        "team",
        "marketing",
        "noreply",
        "no-reply",
        "postmaster",
        "webmaster",
        "hostmaster",
        "abuse",
        "billing",
        "finance",
        "hr",
        "jobs",
        "careers",
        "press",
        "service",
        "receptie",
        "verkoop",
        "administratie",
        "kantoor",
        "mail",
        "enquiries",
        "inquiries",
    }
)
