/* pl-sdp.c — pure checks on SDP text, certificates and ICE candidates
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-sdp"

#include "config.h"

#include "pl-sdp.h"
#include "pl-phone-error.h"

#include <gst/sdp/sdp.h>
#include <string.h>

/* --- fingerprints (RFC 8122) -------------------------------------------- */

typedef enum {
  HASH_ACCEPTED,
  HASH_WEAK,
  HASH_UNSUPPORTED,
} HashKind;

static const struct {
  const char    *name;
  HashKind       kind;
  GChecksumType  type;
  gsize          length;    /* digest bytes */
} hash_functions[] = {
  { "sha-256", HASH_ACCEPTED, G_CHECKSUM_SHA256, 32 },
  { "sha-384", HASH_ACCEPTED, G_CHECKSUM_SHA384, 48 },
  { "sha-512", HASH_ACCEPTED, G_CHECKSUM_SHA512, 64 },
  { "sha-1",   HASH_WEAK,     0,                 0 },
  { "md5",     HASH_WEAK,     0,                 0 },
  { "md2",     HASH_WEAK,     0,                 0 },
};

/* Why no fingerprint was usable, most telling first. */
typedef enum {
  REFUSED_NONE,
  REFUSED_UNSUPPORTED,
  REFUSED_WEAK,
  REFUSED_MALFORMED,
} Refusal;

/* Parses "AB:CD:…" of exactly @length bytes into @out. */
static gboolean
parse_fingerprint_hex (const char *text,
                       gsize       length,
                       guint8     *out)
{
  if (strlen (text) != length * 3 - 1)
    return FALSE;

  for (gsize i = 0; i < length; i++) {
    const char *p = text + i * 3;
    int hi = g_ascii_xdigit_value (p[0]);
    int lo = g_ascii_xdigit_value (p[1]);

    if (hi < 0 || lo < 0 || (i + 1 < length && p[2] != ':'))
      return FALSE;
    out[i] = (hi << 4) | lo;
  }

  return TRUE;
}

/* The DER of the first CERTIFICATE block of @pem, or NULL. */
static GBytes *
pem_first_certificate (const char *pem)
{
  static const char begin[] = "-----BEGIN CERTIFICATE-----";
  static const char end[] = "-----END CERTIFICATE-----";
  const char *start, *stop;
  g_autoptr(GString) base64 = NULL;
  guchar *der;
  gsize der_len = 0;

  if (pem == NULL)
    return NULL;
  start = strstr (pem, begin);
  if (start == NULL)
    return NULL;
  start += strlen (begin);
  stop = strstr (start, end);
  if (stop == NULL)
    return NULL;

  base64 = g_string_new (NULL);
  for (const char *p = start; p < stop; p++) {
    if (g_ascii_isspace (*p))
      continue;
    if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=')
      return NULL;
    g_string_append_c (base64, *p);
  }
  if (base64->len == 0 || base64->len % 4 != 0)
    return NULL;

  der = g_base64_decode (base64->str, &der_len);
  /* A certificate is a DER SEQUENCE. */
  if (der == NULL || der_len < 2 || der[0] != 0x30) {
    g_free (der);
    return NULL;
  }

  return g_bytes_new_take (der, der_len);
}

/* Collects the fingerprint attributes that apply to the bundled transport:
 * the first m-line's own, otherwise the session's. */
static GPtrArray *
collect_fingerprints (const GstSDPMessage *message)
{
  GPtrArray *values = g_ptr_array_new ();

  if (gst_sdp_message_medias_len (message) > 0) {
    const GstSDPMedia *media = gst_sdp_message_get_media (message, 0);

    for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
      const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);

      if (g_strcmp0 (attr->key, "fingerprint") == 0)
        g_ptr_array_add (values, (gpointer) (attr->value ? attr->value : ""));
    }
  }
  if (values->len > 0)
    return values;

  for (guint i = 0; i < gst_sdp_message_attributes_len (message); i++) {
    const GstSDPAttribute *attr = gst_sdp_message_get_attribute (message, i);

    if (g_strcmp0 (attr->key, "fingerprint") == 0)
      g_ptr_array_add (values, (gpointer) (attr->value ? attr->value : ""));
  }

  return values;
}

gboolean
pl_sdp_verify_certificate (const char *remote_sdp,
                           const char *pem,
                           GError    **error)
{
  g_autoptr(GstSDPMessage) message = NULL;
  g_autoptr(GPtrArray) values = NULL;
  g_autoptr(GBytes) der = NULL;
  g_autofree char *refused_name = NULL;
  const char *mismatched = NULL;
  Refusal refusal = REFUSED_NONE;

  if (remote_sdp == NULL || gst_sdp_message_new_from_text (remote_sdp, &message) != GST_SDP_OK) {
    g_set_error_literal (error, PL_CALL_ERROR, PL_CALL_ERROR_PEER_AUTHENTICATION,
                         "the peer's SDP cannot be parsed");
    return FALSE;
  }

  der = pem_first_certificate (pem);
  if (der == NULL) {
    g_set_error_literal (error, PL_CALL_ERROR, PL_CALL_ERROR_PEER_AUTHENTICATION,
                         "the peer sent no readable DTLS certificate");
    return FALSE;
  }

  values = collect_fingerprints (message);
  for (guint i = 0; i < values->len; i++) {
    const char *value = g_ptr_array_index (values, i);
    g_auto(GStrv) words = g_strsplit (value, " ", -1);
    g_autofree char *name = NULL;
    const char *hex;
    guint8 expected[64];
    gboolean known = FALSE;

    /* "hash-func SP fingerprint", nothing else. */
    if (g_strv_length (words) != 2 || *words[0] == '\0') {
      refusal = MAX (refusal, REFUSED_MALFORMED);
      continue;
    }
    name = g_ascii_strdown (words[0], -1);
    hex = g_strchomp (words[1]);

    for (guint h = 0; h < G_N_ELEMENTS (hash_functions); h++) {
      g_autoptr(GChecksum) checksum = NULL;
      guint8 digest[64];
      gsize digest_len = sizeof digest;

      if (strcmp (name, hash_functions[h].name) != 0)
        continue;
      known = TRUE;

      if (hash_functions[h].kind == HASH_WEAK) {
        if (refusal < REFUSED_WEAK) {
          refusal = REFUSED_WEAK;
          g_free (refused_name);
          refused_name = g_strdup (name);
        }
        break;
      }
      if (!parse_fingerprint_hex (hex, hash_functions[h].length, expected)) {
        refusal = MAX (refusal, REFUSED_MALFORMED);
        break;
      }

      checksum = g_checksum_new (hash_functions[h].type);
      g_checksum_update (checksum, g_bytes_get_data (der, NULL), g_bytes_get_size (der));
      g_checksum_get_digest (checksum, digest, &digest_len);
      if (digest_len == hash_functions[h].length &&
          memcmp (digest, expected, digest_len) == 0)
        return TRUE;
      if (mismatched == NULL)
        mismatched = hash_functions[h].name;
      break;
    }

    if (!known && refusal < REFUSED_UNSUPPORTED) {
      refusal = REFUSED_UNSUPPORTED;
      g_free (refused_name);
      refused_name = g_strndup (name, 32);
    }
  }

  if (mismatched != NULL)
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PEER_AUTHENTICATION,
                 "the peer's DTLS certificate does not match the %s fingerprint", mismatched);
  else if (refusal == REFUSED_MALFORMED)
    g_set_error_literal (error, PL_CALL_ERROR, PL_CALL_ERROR_PEER_AUTHENTICATION,
                         "malformed fingerprint in the peer's SDP");
  else if (refusal == REFUSED_WEAK)
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PEER_AUTHENTICATION,
                 "the peer's fingerprint uses the weak hash function %s", refused_name);
  else if (refusal == REFUSED_UNSUPPORTED)
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PEER_AUTHENTICATION,
                 "the peer's fingerprint uses the unsupported hash function %s", refused_name);
  else
    g_set_error_literal (error, PL_CALL_ERROR, PL_CALL_ERROR_PEER_AUTHENTICATION,
                         "no fingerprint in the peer's SDP");

  return FALSE;
}

/* --- codecs --------------------------------------------------------------- */

static const GstSDPMedia *
first_audio (const GstSDPMessage *message)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (message); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (message, i);

    if (g_strcmp0 (gst_sdp_media_get_media (media), "audio") == 0)
      return media;
  }

  return NULL;
}

/* Whether @media maps @format to Opus/48000 (rtpmap). */
static gboolean
format_is_opus (const GstSDPMedia *media,
                const char        *format)
{
  g_autofree char *prefix = g_strdup_printf ("%s ", format);

  for (guint a = 0; a < gst_sdp_media_attributes_len (media); a++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, a);

    if (g_strcmp0 (attr->key, "rtpmap") == 0 && attr->value != NULL &&
        g_str_has_prefix (attr->value, prefix) &&
        g_ascii_strncasecmp (attr->value + strlen (prefix), "opus/48000", 10) == 0)
      return TRUE;
  }

  return FALSE;
}

static int
media_opus_payload_type (const GstSDPMedia *media)
{
  for (guint f = 0; f < gst_sdp_media_formats_len (media); f++) {
    const char *format = gst_sdp_media_get_format (media, f);
    char *end = NULL;
    gint64 pt;

    if (format == NULL || !format_is_opus (media, format))
      continue;
    pt = g_ascii_strtoll (format, &end, 10);
    if (end != format && *end == '\0' && pt >= 0 && pt <= 127)
      return pt;
  }

  return -1;
}

int
pl_sdp_find_opus_payload_type (const char *sdp)
{
  g_autoptr(GstSDPMessage) message = NULL;
  const GstSDPMedia *media;

  if (sdp == NULL || gst_sdp_message_new_from_text (sdp, &message) != GST_SDP_OK)
    return -1;

  media = first_audio (message);

  return media ? media_opus_payload_type (media) : -1;
}

gboolean
pl_sdp_check_answer (const char *offer,
                     const char *answer,
                     GError    **error)
{
  g_autoptr(GstSDPMessage) message = NULL;
  g_autofree char *format = NULL;
  const GstSDPMedia *media;
  int payload_type;

  payload_type = pl_sdp_find_opus_payload_type (offer);
  if (payload_type < 0) {
    g_set_error_literal (error, PL_CALL_ERROR, PL_CALL_ERROR_NEGOTIATION,
                         "our offer has no Opus audio");
    return FALSE;
  }

  if (answer == NULL || gst_sdp_message_new_from_text (answer, &message) != GST_SDP_OK) {
    g_set_error_literal (error, PL_CALL_ERROR, PL_CALL_ERROR_NEGOTIATION,
                         "the answer cannot be parsed");
    return FALSE;
  }

  media = first_audio (message);
  if (media == NULL) {
    g_set_error_literal (error, PL_CALL_ERROR, PL_CALL_ERROR_NEGOTIATION,
                         "the answer has no audio m-line");
    return FALSE;
  }
  if (gst_sdp_media_get_port (media) == 0) {
    g_set_error_literal (error, PL_CALL_ERROR, PL_CALL_ERROR_NEGOTIATION,
                         "the answer rejected the audio m-line (port 0)");
    return FALSE;
  }

  format = g_strdup_printf ("%d", payload_type);
  for (guint f = 0; f < gst_sdp_media_formats_len (media); f++) {
    if (g_strcmp0 (gst_sdp_media_get_format (media, f), format) == 0 &&
        format_is_opus (media, format))
      return TRUE;
  }

  g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_NEGOTIATION,
               "the answer does not accept the offered codec Opus/48000 at payload type %d",
               payload_type);
  return FALSE;
}

/* --- ICE candidates ------------------------------------------------------- */

gboolean
pl_sdp_candidate_is_usable (const char *candidate)
{
  g_auto(GStrv) words = NULL;

  if (candidate == NULL || !g_str_has_prefix (candidate, "candidate:"))
    return FALSE;

  /* candidate:<foundation> <component> <transport> <priority> <address> <port> typ … */
  words = g_strsplit (candidate, " ", 9);
  if (g_strv_length (words) < 8 || strcmp (words[6], "typ") != 0)
    return FALSE;

  /* mDNS host names are not resolved here; the peer-reflexive candidate that
   * the connectivity checks discover takes their place. */
  if (g_str_has_suffix (words[4], ".local"))
    return FALSE;

  return TRUE;
}
