/* test-sdp.c — pl-sdp: certificate fingerprints, answers, candidates
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * data/peer.pem and data/other.pem are self-signed P-256 test certificates
 * made with `openssl req -x509 -newkey ec`; the fingerprints below are
 * `openssl x509 -noout -fingerprint -sha256` (-sha384, -sha512) of them,
 * computed independently of the code under test.
 */

#include "config.h"

#include "pl-error.h"
#include "pl-sdp.h"

#include <string.h>

#define PEER_SHA256 "81:0A:F1:59:B4:6C:5E:D7:0F:72:BD:E4:17:E5:99:A8:90:92:D5:48:56:A9:B0:FD:10:27:A1:42:B6:E4:A4:79"
#define PEER_SHA384 "31:D8:5F:1C:C2:B0:5A:D5:FF:19:91:8B:2F:E3:F2:49:00:F4:4C:E3:BA:4D:F2:62:57:8A:3A:F5:E6:A7:82:52:5B:B3:F8:87:F5:15:74:5A:51:05:F2:DA:23:9F:AF:EC"
#define PEER_SHA512 "7F:DD:18:ED:62:36:59:17:72:FB:EA:F3:1A:F8:9B:13:5A:D0:81:19:54:3A:20:01:02:00:23:B1:A7:73:F7:01:2A:E3:0F:F2:6C:17:FA:EF:45:00:BF:10:6F:A5:AE:7B:8E:02:48:24:73:16:5D:C2:92:5A:B1:79:EE:8F:D1:9B"
#define OTHER_SHA256 "82:84:D9:E6:16:E2:19:57:6D:F2:A2:5E:16:9C:B7:38:77:EB:32:DB:F9:78:F6:A1:07:90:9E:7B:79:CC:6F:02"

#define SESSION_HEAD \
  "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE audio0\r\n"
#define AUDIO_LINE(pt) \
  "m=audio 9 UDP/TLS/RTP/SAVPF " pt "\r\nc=IN IP4 0.0.0.0\r\na=mid:audio0\r\n" \
  "a=rtcp-mux\r\na=sendrecv\r\n"
#define OPUS(pt) "a=rtpmap:" pt " OPUS/48000/2\r\n"

static char *
load_pem (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "unit", "data", name, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, &error))
    g_error ("%s: %s", path, error->message);

  return text;
}

/* An offer with @session_fp at session level and @media_fp in the m-line
 * (each a list of full "a=fingerprint:…\r\n" lines, or ""). */
static char *
sdp_with (const char *session_fp,
          const char *media_fp)
{
  return g_strconcat (SESSION_HEAD, session_fp, AUDIO_LINE ("96"), OPUS ("96"), media_fp,
                      "a=setup:actpass\r\n", NULL);
}

static void
assert_verified (const char *sdp,
                 const char *pem)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (pl_sdp_verify_certificate (sdp, pem, &error));
  g_assert_no_error (error);
}

static void
assert_refused (const char *sdp,
                const char *pem,
                const char *needle)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (pl_sdp_verify_certificate (sdp, pem, &error));
  g_assert_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PEER_AUTHENTICATION);
  if (strstr (error->message, needle) == NULL)
    g_error ("expected '%s' in '%s'", needle, error->message);
}

static void
test_fingerprint_match (void)
{
  g_autofree char *pem = load_pem ("peer.pem");
  g_autofree char *lower = g_ascii_strdown (PEER_SHA256, -1);
  g_autofree char *chain = NULL;
  g_autofree char *other = load_pem ("other.pem");
  const char *cases[][2] = {
    { "", "a=fingerprint:sha-256 " PEER_SHA256 "\r\n" },
    { "a=fingerprint:sha-256 " PEER_SHA256 "\r\n", "" },                 /* session level */
    { "", "a=fingerprint:sha-384 " PEER_SHA384 "\r\n" },
    { "", "a=fingerprint:SHA-512 " PEER_SHA512 "\r\n" },                 /* name in capitals */
    /* a refused hash is ignored next to an accepted one */
    { "", "a=fingerprint:md2 00:11\r\na=fingerprint:sha-256 " PEER_SHA256 "\r\n" },
    /* one accepted fingerprint of two must match */
    { "", "a=fingerprint:sha-256 " OTHER_SHA256 "\r\na=fingerprint:sha-256 " PEER_SHA256 "\r\n" },
    /* the media level overrides a wrong session level */
    { "a=fingerprint:sha-256 " OTHER_SHA256 "\r\n", "a=fingerprint:sha-256 " PEER_SHA256 "\r\n" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *sdp = sdp_with (cases[i][0], cases[i][1]);

    assert_verified (sdp, pem);
  }

  {
    g_autofree char *fp = g_strconcat ("a=fingerprint:sha-256 ", lower, "\r\n", NULL);
    g_autofree char *sdp = sdp_with ("", fp);

    assert_verified (sdp, pem);   /* hex is case-insensitive */
  }

  /* Several blocks: the first is the peer's. */
  chain = g_strconcat (pem, other, NULL);
  {
    g_autofree char *sdp = sdp_with ("", "a=fingerprint:sha-256 " PEER_SHA256 "\r\n");
    g_autofree char *reversed = g_strconcat (other, pem, NULL);

    assert_verified (sdp, chain);
    assert_refused (sdp, reversed, "does not match the sha-256 fingerprint");
  }
}

static void
test_fingerprint_refused (void)
{
  g_autofree char *pem = load_pem ("peer.pem");
  g_autofree char *other = load_pem ("other.pem");
  const char *cases[][3] = {
    { "", "", "no fingerprint" },
    { "", "a=fingerprint:sha-256 " OTHER_SHA256 "\r\n", "does not match the sha-256 fingerprint" },
    /* the session level does not count once the m-line has its own */
    { "a=fingerprint:sha-256 " PEER_SHA256 "\r\n", "a=fingerprint:sha-256 " OTHER_SHA256 "\r\n",
      "does not match" },
    { "", "a=fingerprint:md2 " PEER_SHA256 "\r\n", "weak hash function md2" },
    { "", "a=fingerprint:md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n",
      "weak hash function md5" },
    { "", "a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33\r\n",
      "weak hash function sha-1" },
    { "", "a=fingerprint:sha-224 " PEER_SHA256 "\r\n", "unsupported hash function sha-224" },
    { "", "a=fingerprint:\r\n", "malformed fingerprint" },
    { "", "a=fingerprint:sha-256\r\n", "malformed fingerprint" },
    { "", "a=fingerprint:sha-256 zz:not:hex\r\n", "malformed fingerprint" },
    /* one byte short, one byte long, no colons, trailing garbage, two spaces */
    { "", "a=fingerprint:sha-256 0A:F1:59:B4:6C:5E:D7:0F:72:BD:E4:17:E5:99:A8:90:92:D5:48:56:A9:B0:FD:10:27:A1:42:B6:E4:A4:79\r\n",
      "malformed fingerprint" },
    { "", "a=fingerprint:sha-256 " PEER_SHA256 ":00\r\n", "malformed fingerprint" },
    { "", "a=fingerprint:sha-256 810AF159B46C5ED70F72BDE417E599A89092D54856A9B0FD1027A142B6E4A479\r\n",
      "malformed fingerprint" },
    { "", "a=fingerprint:sha-256 " PEER_SHA256 " x\r\n", "malformed fingerprint" },
    { "", "a=fingerprint:sha-256  " PEER_SHA256 "\r\n", "malformed fingerprint" },
    /* a sha-512-length value named sha-256 */
    { "", "a=fingerprint:sha-256 " PEER_SHA512 "\r\n", "malformed fingerprint" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *sdp = sdp_with (cases[i][0], cases[i][1]);

    assert_refused (sdp, pem, cases[i][2]);
  }

  /* The other certificate does not pass as the peer's. */
  {
    g_autofree char *sdp = sdp_with ("", "a=fingerprint:sha-256 " PEER_SHA256 "\r\n");

    assert_refused (sdp, other, "does not match");
    assert_refused (sdp, NULL, "no readable DTLS certificate");
    assert_refused (sdp, "", "no readable DTLS certificate");
    assert_refused (sdp, "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
                    "no readable DTLS certificate");
    assert_refused (sdp, "-----BEGIN CERTIFICATE-----\nAAAA\n", "no readable DTLS certificate");
  }
  assert_refused ("not sdp at all", pem, "no fingerprint");  /* gst-sdp parses anything */
  assert_refused (NULL, pem, "cannot be parsed");
}

#define OFFER SESSION_HEAD AUDIO_LINE ("96 0") OPUS ("96") "a=rtpmap:0 PCMU/8000\r\n"

static void
assert_answer_refused (const char *answer,
                       const char *needle)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (pl_sdp_check_answer (OFFER, answer, &error));
  g_assert_error (error, PL_CALL_ERROR, PL_CALL_ERROR_NEGOTIATION);
  if (strstr (error->message, needle) == NULL)
    g_error ("expected '%s' in '%s'", needle, error->message);
}

static void
test_check_answer (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (pl_sdp_check_answer (OFFER, SESSION_HEAD AUDIO_LINE ("96") OPUS ("96"), &error));
  g_assert_no_error (error);
  g_assert_true (pl_sdp_check_answer (OFFER, SESSION_HEAD AUDIO_LINE ("0 96") "a=rtpmap:0 PCMU/8000\r\n"
                                      "a=rtpmap:96 opus/48000/2\r\n", &error));
  g_assert_no_error (error);

  /* Another codec, Opus at another payload type, port 0, no audio, garbage */
  assert_answer_refused (SESSION_HEAD AUDIO_LINE ("0") "a=rtpmap:0 PCMU/8000\r\n",
                         "does not accept the offered codec Opus/48000 at payload type 96");
  assert_answer_refused (SESSION_HEAD AUDIO_LINE ("111") OPUS ("111"), "payload type 96");
  assert_answer_refused (SESSION_HEAD AUDIO_LINE ("96") "a=rtpmap:96 PCMU/8000\r\n",
                         "payload type 96");
  assert_answer_refused (SESSION_HEAD AUDIO_LINE ("96"), "payload type 96");
  assert_answer_refused (SESSION_HEAD "m=audio 0 UDP/TLS/RTP/SAVPF 96\r\n" OPUS ("96"), "port 0");
  assert_answer_refused (SESSION_HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "no audio m-line");
  assert_answer_refused ("garbage", "no audio m-line");
  assert_answer_refused (NULL, "cannot be parsed");

  g_assert_false (pl_sdp_check_answer (NULL, OFFER, &error));
  g_assert_error (error, PL_CALL_ERROR, PL_CALL_ERROR_NEGOTIATION);
}

static void
test_opus_payload_type (void)
{
  g_assert_cmpint (pl_sdp_find_opus_payload_type (OFFER), ==, 96);
  g_assert_cmpint (pl_sdp_find_opus_payload_type (SESSION_HEAD AUDIO_LINE ("0 111")
                                                  "a=rtpmap:111 opus/48000/2\r\n"), ==, 111);
  g_assert_cmpint (pl_sdp_find_opus_payload_type (SESSION_HEAD AUDIO_LINE ("0")
                                                  "a=rtpmap:0 PCMU/8000\r\n"), ==, -1);
  g_assert_cmpint (pl_sdp_find_opus_payload_type (SESSION_HEAD AUDIO_LINE ("200") OPUS ("200")),
                   ==, -1);
  g_assert_cmpint (pl_sdp_find_opus_payload_type ("nope"), ==, -1);
  g_assert_cmpint (pl_sdp_find_opus_payload_type (NULL), ==, -1);
}

static void
test_candidate_is_usable (void)
{
  g_assert_true (pl_sdp_candidate_is_usable ("candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host"));
  g_assert_true (pl_sdp_candidate_is_usable ("candidate:842163049 1 udp 1677729535 10.0.0.1 5000 "
                                             "typ srflx raddr 0.0.0.0 rport 0 generation 0 "
                                             "ufrag abcd network-cost 999"));
  g_assert_true (pl_sdp_candidate_is_usable ("candidate:3 1 TCP 1010 127.0.0.1 9 typ host "
                                             "tcptype active"));
  g_assert_false (pl_sdp_candidate_is_usable (""));
  g_assert_false (pl_sdp_candidate_is_usable (NULL));
  g_assert_false (pl_sdp_candidate_is_usable ("candidate:1 1 UDP 2015363327 127.0.0.1 40000"));
  g_assert_false (pl_sdp_candidate_is_usable ("1 1 UDP 2015363327 127.0.0.1 40000 typ host"));
  g_assert_false (pl_sdp_candidate_is_usable ("candidate:1 1 UDP 2 127.0.0.1 40000 type host"));
  g_assert_false (pl_sdp_candidate_is_usable ("candidate:1 1 udp 2 4f1c-8a.local 40000 typ host"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/partyline/sdp/fingerprint-match", test_fingerprint_match);
  g_test_add_func ("/partyline/sdp/fingerprint-refused", test_fingerprint_refused);
  g_test_add_func ("/partyline/sdp/check-answer", test_check_answer);
  g_test_add_func ("/partyline/sdp/opus-payload-type", test_opus_payload_type);
  g_test_add_func ("/partyline/sdp/candidate-is-usable", test_candidate_is_usable);

  return g_test_run ();
}
