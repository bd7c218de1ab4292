/* fuzz-sdp.c — a phone's handling of a remote offer, answer or candidate
 *
 * The first byte of an input picks what the rest is (corpus/sdp/ files start
 * with it):
 *
 *   'a'    the SDP answer of an `accept` (pl-call.c → pl_peer_set_remote_description ()
 *          with GST_WEBRTC_SDP_TYPE_ANSWER)
 *   'c'    the candidate of an `ice` message (pl-call.c → pl_peer_add_ice_candidate ())
 *   other  the SDP offer of an incoming `call` (pl-line.c handle_incoming_call () →
 *          pl_sdp_find_opus_payload_type (), then pl_peer_set_remote_description ()
 *          with GST_WEBRTC_SDP_TYPE_OFFER)
 *
 * Each runs up to where the phone hands the result to webrtcbin (the
 * "set-remote-description" and "add-ice-candidate" signals), which needs no
 * pipeline: gst-sdp's parser, the GstWebRTCSessionDescription, our checks.
 * webrtcbin's own handling of the description is not reached here (it needs
 * a webrtcbin in READY, with the plugins, per input).
 *
 * The text is what pl_message_validate () lets through to these: a JSON
 * string, so valid UTF-8 without NUL; an SDP is never empty (check_non_empty).
 *
 * No gst_init (): gst-sdp's parser needs no registry, types or plugins (its
 * only GStreamer calls are debug logs, off until gst_init ()).
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "pl-fuzz.h"
#include "pl-sdp.h"

#include <glib.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <string.h>

/* tests/unit/data/peer.pem: a self-signed P-256 test certificate, the
 * "peer's" certificate every SDP is checked against. */
#define PEER_PEM \
  "-----BEGIN CERTIFICATE-----\n" \
  "MIIBkjCCATmgAwIBAgIUMiyXp/EkhFEHlkUU3E59luvRIJowCgYIKoZIzj0EAwIw\n" \
  "HjEcMBoGA1UEAwwTcGFydHlsaW5lLXRlc3QtcGVlcjAgFw0yNjEyMDIwNTA2MTha\n" \
  "GA8yMTI2MTEwODA1MDYxOFowHjEcMBoGA1UEAwwTcGFydHlsaW5lLXRlc3QtcGVl\n" \
  "cjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJt8YZXo4rUS0F9G76oTYkY6cwY6\n" \
  "voovL0Nktcee8S7LpCjLn30XmEF/AWm2ZKkhMQbKmOi6c5uWos6+klp29LyjUzBR\n" \
  "MB0GA1UdDgQWBBSod94UcThNkAKuxOD28MV/kcwWJzAfBgNVHSMEGDAWgBSod94U\n" \
  "cThNkAKuxOD28MV/kcwWJzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cA\n" \
  "MEQCIQCyOwNsV0EEmyP5iYBjPucKcONoEOncaAtDsUbPpD3h4wIfG2JmVlZi9O6c\n" \
  "dzH3fXJOd2EVmOfdIrYoKE6zB0NXjg==\n" \
  "-----END CERTIFICATE-----\n"

/* The peer's certificate checked against the SDP's fingerprints, as
 * pl-peer.c does during the DTLS handshake. */
static void
verify_certificate (const char *sdp)
{
  g_autoptr(GError) error = NULL;

  if (!pl_sdp_verify_certificate (sdp, PEER_PEM, &error))
    g_assert_nonnull (error);
  else
    g_assert_null (error);
}

/* pl_peer_set_remote_description () up to the "set-remote-description"
 * emission. */
static void
set_remote_description (GstWebRTCSDPType type,
                        const char      *sdp)
{
  GstSDPMessage *message = NULL;
  GstWebRTCSessionDescription *description;
  g_autofree char *text = NULL;

  if (gst_sdp_message_new_from_text (sdp, &message) != GST_SDP_OK) {
    g_clear_pointer (&message, gst_sdp_message_free);
    return;
  }

  description = gst_webrtc_session_description_new (type, message);
  /* webrtcbin writes the description back out (its local copy, logs,
   * the current-remote-description property). */
  text = gst_sdp_message_as_text (description->sdp);
  g_assert_nonnull (text);
  gst_webrtc_session_description_free (description);
}

static void
handle_offer (const char *sdp)
{
  int payload_type = pl_sdp_find_opus_payload_type (sdp);

  g_assert_cmpint (payload_type, >=, -1);
  g_assert_cmpint (payload_type, <=, 127);
  /* The phone refuses a call without Opus before it builds a peer. */
  if (payload_type < 0)
    return;

  set_remote_description (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  verify_certificate (sdp);

}

/* The offer the phone sent (corpus/sdp/ has answers to offers like it). */
#define LOCAL_OFFER \
  "v=0\r\n" \
  "o=- 4143208427066345823 0 IN IP4 0.0.0.0\r\n" \
  "s=-\r\n" \
  "t=0 0\r\n" \
  "a=ice-options:trickle\r\n" \
  "a=group:BUNDLE audio0\r\n" \
  "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\n" \
  "c=IN IP4 0.0.0.0\r\n" \
  "a=setup:actpass\r\n" \
  "a=ice-ufrag:Zf0x1QS0WzQ0bW0x2Vj4ZYmPqg0QBVZb\r\n" \
  "a=ice-pwd:v2gHnR0Eb9pfrZtTqXHw6p1vAkS0bXyE\r\n" \
  "a=rtcp-mux\r\n" \
  "a=rtcp-rsize\r\n" \
  "a=sendrecv\r\n" \
  "a=rtpmap:96 OPUS/48000/2\r\n" \
  "a=rtcp-fb:96 transport-cc\r\n" \
  "a=fmtp:96 minptime=10;useinbandfec=1\r\n" \
  "a=mid:audio0\r\n" \
  "a=fingerprint:sha-256 " \
  "5D:2F:41:9C:7B:3E:A0:16:88:C4:0B:E2:93:7A:55:1D:60:F8:2C:B9:04:7E:D3:11:AF:6B:98:C2:3D:70:E4:5A\r\n"

static void
handle_answer (const char *sdp)
{
  g_autoptr(GError) error = NULL;

  /* pl-call.c refuses an answer that accepts no codec of the offer before
   * webrtcbin sees it. */
  if (!pl_sdp_check_answer (LOCAL_OFFER, sdp, &error)) {
    g_assert_nonnull (error);
    return;
  }
  set_remote_description (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  verify_certificate (sdp);
}

static void
handle_candidate (const char *candidate)
{
  g_autofree char *sdp = NULL;

  /* What pl_peer_add_ice_candidate () checks before "add-ice-candidate". */
  if (!pl_sdp_candidate_is_usable (candidate))
    return;

  /* A candidate in the offer itself (a non-trickle offer, or webrtcbin's
   * once gathering is done): a= line of the audio m-line. */
  sdp = g_strconcat (LOCAL_OFFER, "a=", candidate, "\r\n", NULL);
  handle_offer (sdp);
}

PL_FUZZ_DEFINE_INITIALIZE ()

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = NULL;

  if (size < 1)
    return 0;

  /* Only what a JSON string can carry reaches these. */
  text = g_strndup ((const char *) data + 1, size - 1);
  if (strlen (text) != size - 1 || !g_utf8_validate (text, -1, NULL))
    return 0;

  switch (data[0]) {
  case 'a':
    if (*text != '\0')
      handle_answer (text);
    break;

  case 'c':
    /* "" is the end of candidates: pl_peer_add_ice_candidate () drops it. */
    if (*text != '\0')
      handle_candidate (text);
    break;

  default:
    if (*text != '\0')
      handle_offer (text);
    break;
  }

  return 0;
}
