"""An SMTP server for the end-to-end tests: aiosmtpd (a real SMTP
implementation from Debian) with a recipient policy, storing accepted mail
in a Maildir.

Recipients whose local part names a reply get it, so a test can make the
receiving MTA refuse or defer:
  reject-user@...   -> 550 5.1.1 User unknown
  policy-block@...  -> 550 5.7.1 Delivery not authorized
  too-big@...       -> 552 5.3.4 Message too big for system
  defer@...         -> 451 4.3.0 Try again later
  greylist@...      -> 451 4.7.1 Greylisted the first time a sender tries
                       this recipient, 250 from then on (as postgrey)
Anything else is accepted with 250 and written to DIR/new/.

Usage: /usr/bin/python3 smtp_sink.py PORT DIR
"""
import mailbox
import signal
import sys

from aiosmtpd.controller import Controller

REPLIES = {
    "reject-user": "550 5.1.1 User unknown",
    "policy-block": "550 5.7.1 Delivery not authorized",
    "too-big": "552 5.3.4 Message too big for system",
    "defer": "451 4.3.0 Try again later",
}


class Policy:
    def __init__(self, maildir):
        self.maildir = mailbox.Maildir(maildir, create=True)
        self.seen = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local == "greylist":
            pair = (envelope.mail_from, address)
            if pair not in self.seen:
                self.seen.add(pair)
                return "451 4.7.1 Greylisted, please try again later"
        reply = REPLIES.get(local)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # Keep the envelope with the bytes, as an MTA's Return-Path and
        # Delivered-To would.
        # aiosmtpd gives the null reverse-path of a bounce as "<>".
        mail_from = "" if envelope.mail_from in ("", "<>") else envelope.mail_from
        head = "X-Envelope-From: <%s>\r\nX-Envelope-To: %s\r\n" % (
            mail_from,
            ", ".join("<%s>" % r for r in envelope.rcpt_tos),
        )
        self.maildir.add(head.encode() + envelope.original_content)
        return "250 2.0.0 Message accepted for delivery"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Policy(directory), hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    print("ready", flush=True)
    try:
        signal.pause()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
