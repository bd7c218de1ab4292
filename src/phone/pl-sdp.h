/* pl-sdp.h — pure checks on SDP text, certificates and ICE candidates
 *
 * No GStreamer elements here: only gst-sdp and GLib, so that fuzzers and
 * unit tests can call these functions directly. Every input is untrusted
 * network data: nothing is asserted on it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include "pl-phone-error.h"

G_BEGIN_DECLS

/* Checks the peer's DTLS certificate against the `a=fingerprint` of
 * @remote_sdp (RFC 8122 §5): the fingerprints of the bundled transport (the
 * first m-line's own, else the session-level ones), with sha-256, sha-384 or
 * sha-512 (md2, md5 and sha-1 are refused as weak, other names as
 * unsupported; a refused one is ignored when an accepted one is present).
 * @pem holds one or more CERTIFICATE blocks; the first is the peer's. At least
 * one accepted fingerprint must match its DER encoding. Otherwise FALSE with
 * PL_CALL_ERROR_PEER_AUTHENTICATION naming why. */
gboolean pl_sdp_verify_certificate     (const char *remote_sdp,
                                        const char *pem,
                                        GError    **error);

/* Checks that @answer accepts what @offer offered: its first audio m-line has
 * a port other than 0 and Opus/48000 at the payload type of the offer's
 * Opus. Otherwise FALSE with PL_CALL_ERROR_NEGOTIATION. */
gboolean pl_sdp_check_answer           (const char *offer,
                                        const char *answer,
                                        GError    **error);

/* The Opus payload type of the first audio m-line of @sdp; -1 when it has
 * none (or @sdp does not parse). */
int      pl_sdp_find_opus_payload_type (const char *sdp);

/* Whether @candidate is an ICE candidate line webrtcbin should be given:
 * `candidate:<foundation> <component> <transport> <priority> <address>
 * <port> typ <type> …`, not an mDNS (`….local`) host. FALSE for "". */
gboolean pl_sdp_candidate_is_usable    (const char *candidate);

G_END_DECLS
