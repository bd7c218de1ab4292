/* pl-protocol.c — the signaling protocol v1: JSON text <-> PlMessage
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-protocol"

#include "config.h"

#include "pl-protocol.h"

#include <json-glib/json-glib.h>

#include <string.h>

#define PL_NUMBER_MAX_LEN   32
#define PL_CALL_ID_MIN_LEN  8
#define PL_CALL_ID_MAX_LEN  64

/* The public PlMessage, and the parsed JSON object pl_message_validate ()
 * reads its fields from. Every PlMessage comes from pl_message_new (), so
 * the cast from PlMessage * is always valid. */
typedef struct {
  PlMessage   pub;
  JsonObject *object;
} PlMessageReal;

static const char * const message_type_names[] = {
  [PL_MESSAGE_UNKNOWN] = NULL,
  [PL_MESSAGE_REGISTER] = "register",
  [PL_MESSAGE_REGISTERED] = "registered",
  [PL_MESSAGE_CALL] = "call",
  [PL_MESSAGE_RINGING] = "ringing",
  [PL_MESSAGE_ACCEPT] = "accept",
  [PL_MESSAGE_ICE] = "ice",
  [PL_MESSAGE_HANGUP] = "hangup",
  [PL_MESSAGE_PEERS] = "peers",
  [PL_MESSAGE_ERROR] = "error",
};

static gboolean
bad_request (GError    **error,
             const char *format,
             ...) G_GNUC_PRINTF (2, 3);

static gboolean
bad_request (GError    **error,
             const char *format,
             ...)
{
  va_list args;

  if (error == NULL)
    return FALSE;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (PL_PROTOCOL_ERROR,
                                                PL_PROTOCOL_ERROR_BAD_REQUEST,
                                                format, args));
  va_end (args);

  return FALSE;
}

static gboolean
is_number_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '.' || c == '+' || c == '-';
}

static gboolean
is_call_id_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '-';
}

/* The string @node holds, or NULL when it holds none. json-glib decodes an
 * escaped unpaired surrogate ("\ud800") into bytes that are not UTF-8;
 * such a string is not one: nothing of it may reach a reply or a forwarded
 * message, which must be UTF-8 text (a WebSocket text frame). */
static const char *
node_get_utf8 (JsonNode *node)
{
  const char *value;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  value = json_node_get_string (node);
  if (!g_utf8_validate (value, -1, NULL))
    return NULL;

  return value;
}

/* Extraction from the JSON object: type checks only. An absent member and a
 * JSON null are both "absent". */

static gboolean
read_string (JsonObject *object,
             const char *field,
             gboolean    required,
             char      **out,
             GError    **error)
{
  JsonNode *node = json_object_get_member (object, field);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    if (required)
      return bad_request (error, "missing field '%s'", field);
    return TRUE;
  }

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return bad_request (error, "field '%s' must be a string", field);
  if (node_get_utf8 (node) == NULL)
    return bad_request (error, "field '%s' is not valid UTF-8 (an unpaired surrogate?)", field);

  g_free (*out);
  *out = g_strdup (json_node_get_string (node));

  return TRUE;
}

static gboolean
read_index (JsonObject *object,
            const char *field,
            int        *out,
            GError    **error)
{
  JsonNode *node = json_object_get_member (object, field);
  gint64 value;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return bad_request (error, "field '%s' must be a non-negative integer", field);

  value = json_node_get_int (node);
  if (value < 0 || value > G_MAXINT)
    return bad_request (error, "field '%s' must be a non-negative integer", field);

  *out = (int) value;

  return TRUE;
}

static gboolean
read_string_array (JsonObject *object,
                   const char *field,
                   GStrv      *out,
                   GError    **error)
{
  g_autoptr(GPtrArray) strings = NULL;
  JsonNode *node = json_object_get_member (object, field);
  JsonArray *array;
  guint length;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return bad_request (error, "missing field '%s'", field);

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return bad_request (error, "field '%s' must be an array of strings", field);

  array = json_node_get_array (node);
  length = json_array_get_length (array);
  strings = g_ptr_array_new_full (length + 1, g_free);

  for (guint i = 0; i < length; i++) {
    JsonNode *element = json_array_get_element (array, i);

    if (node_get_utf8 (element) == NULL)
      return bad_request (error, "field '%s' must be an array of strings", field);

    g_ptr_array_add (strings, g_strdup (json_node_get_string (element)));
  }
  g_ptr_array_add (strings, NULL);

  g_strfreev (*out);
  *out = (GStrv) g_ptr_array_free (g_steal_pointer (&strings), FALSE);

  return TRUE;
}

static gboolean
read_fields (PlMessage          *msg,
             JsonObject         *object,
             PlProtocolDirection direction,
             GError            **error)
{
  switch (msg->type) {
  case PL_MESSAGE_REGISTER:
    return read_string (object, "number", TRUE, &msg->number, error) &&
           read_string (object, "token", FALSE, &msg->token, error);

  case PL_MESSAGE_REGISTERED:
    return read_string (object, "number", TRUE, &msg->number, error);

  case PL_MESSAGE_CALL:
    if (!read_string (object, "call_id", TRUE, &msg->call_id, error))
      return FALSE;
    if (direction == PL_PROTOCOL_TO_SERVER) {
      if (!read_string (object, "to", TRUE, &msg->to, error))
        return FALSE;
    } else {
      if (!read_string (object, "from", TRUE, &msg->from, error))
        return FALSE;
    }
    return read_string (object, "sdp", TRUE, &msg->sdp, error);

  case PL_MESSAGE_RINGING:
    return read_string (object, "call_id", TRUE, &msg->call_id, error);

  case PL_MESSAGE_ACCEPT:
    return read_string (object, "call_id", TRUE, &msg->call_id, error) &&
           read_string (object, "sdp", TRUE, &msg->sdp, error);

  case PL_MESSAGE_ICE:
    return read_string (object, "call_id", TRUE, &msg->call_id, error) &&
           read_string (object, "candidate", TRUE, &msg->candidate, error) &&
           read_index (object, "sdp_mline_index", &msg->sdp_mline_index, error);

  case PL_MESSAGE_HANGUP:
    return read_string (object, "call_id", TRUE, &msg->call_id, error) &&
           read_string (object, "reason", TRUE, &msg->reason, error);

  case PL_MESSAGE_PEERS:
    if (direction == PL_PROTOCOL_TO_SERVER)
      return TRUE;
    return read_string_array (object, "numbers", &msg->numbers, error);

  case PL_MESSAGE_ERROR:
    return read_string (object, "code", TRUE, &msg->code, error) &&
           read_string (object, "message", TRUE, &msg->message, error) &&
           read_string (object, "ref", FALSE, &msg->ref, error) &&
           read_string (object, "call_id", FALSE, &msg->call_id, error);

  case PL_MESSAGE_UNKNOWN:
  default:
    return bad_request (error, "unknown message type");
  }
}

/* Checks on the filled fields: formats and the rules between fields. These
 * run for parsed messages and for messages built in code alike. */

static gboolean
check_number (const char *field,
              const char *value,
              GError    **error)
{
  if (value == NULL)
    return bad_request (error, "missing field '%s'", field);
  if (!pl_number_is_valid (value))
    return bad_request (error, "field '%s' is not a valid number (1-32 of [0-9A-Za-z_.+-])", field);

  return TRUE;
}

static gboolean
check_call_id (const char *value,
               GError    **error)
{
  if (value == NULL)
    return bad_request (error, "missing field 'call_id'");
  if (!pl_call_id_is_valid (value))
    return bad_request (error, "field 'call_id' is not a valid call id (8-64 of [0-9A-Za-z_-])");

  return TRUE;
}

static gboolean
check_non_empty (const char *field,
                 const char *value,
                 GError    **error)
{
  if (value == NULL)
    return bad_request (error, "missing field '%s'", field);
  if (*value == '\0')
    return bad_request (error, "field '%s' must not be empty", field);

  return TRUE;
}

static gboolean
check_present (const char *field,
               const char *value,
               GError    **error)
{
  if (value == NULL)
    return bad_request (error, "missing field '%s'", field);

  return TRUE;
}

static gboolean
check_direction (PlMessageType       type,
                 PlProtocolDirection direction,
                 GError            **error)
{
  switch (type) {
  case PL_MESSAGE_REGISTER:
    if (direction != PL_PROTOCOL_TO_SERVER)
      return bad_request (error, "'register' is only sent by phones");
    return TRUE;

  case PL_MESSAGE_REGISTERED:
  case PL_MESSAGE_ERROR:
    if (direction != PL_PROTOCOL_TO_PHONE)
      return bad_request (error, "'%s' is only sent by the server",
                          pl_message_type_to_string (type));
    return TRUE;

  case PL_MESSAGE_CALL:
  case PL_MESSAGE_RINGING:
  case PL_MESSAGE_ACCEPT:
  case PL_MESSAGE_ICE:
  case PL_MESSAGE_HANGUP:
  case PL_MESSAGE_PEERS:
    return TRUE;

  case PL_MESSAGE_UNKNOWN:
  default:
    return bad_request (error, "unknown message type");
  }
}

static gboolean
check_fields (const PlMessage    *msg,
              PlProtocolDirection direction,
              GError            **error)
{
  switch (msg->type) {
  case PL_MESSAGE_REGISTER:
  case PL_MESSAGE_REGISTERED:
    return check_number ("number", msg->number, error);

  case PL_MESSAGE_CALL:
    if (!check_call_id (msg->call_id, error))
      return FALSE;
    if (direction == PL_PROTOCOL_TO_SERVER) {
      if (!check_number ("to", msg->to, error))
        return FALSE;
    } else {
      if (!check_number ("from", msg->from, error))
        return FALSE;
    }
    return check_non_empty ("sdp", msg->sdp, error);

  case PL_MESSAGE_RINGING:
    return check_call_id (msg->call_id, error);

  case PL_MESSAGE_ACCEPT:
    return check_call_id (msg->call_id, error) &&
           check_non_empty ("sdp", msg->sdp, error);

  case PL_MESSAGE_ICE:
    if (!check_call_id (msg->call_id, error) ||
        !check_present ("candidate", msg->candidate, error))
      return FALSE;
    /* An empty candidate is the end of candidates: the index is optional. */
    if (*msg->candidate != '\0' && msg->sdp_mline_index < 0)
      return bad_request (error, "missing field 'sdp_mline_index'");
    return TRUE;

  case PL_MESSAGE_HANGUP:
    return check_call_id (msg->call_id, error) &&
           check_present ("reason", msg->reason, error);

  case PL_MESSAGE_PEERS:
    if (direction == PL_PROTOCOL_TO_SERVER)
      return TRUE;
    if (msg->numbers == NULL)
      return bad_request (error, "missing field 'numbers'");
    for (guint i = 0; msg->numbers[i] != NULL; i++) {
      if (!pl_number_is_valid (msg->numbers[i]))
        return bad_request (error, "field 'numbers' holds an invalid number");
    }
    return TRUE;

  case PL_MESSAGE_ERROR:
    return check_present ("code", msg->code, error) &&
           check_present ("message", msg->message, error);

  case PL_MESSAGE_UNKNOWN:
  default:
    return bad_request (error, "unknown message type");
  }
}

PlMessage *
pl_message_new (PlMessageType type)
{
  PlMessageReal *real = g_new0 (PlMessageReal, 1);

  real->pub.type = type;
  real->pub.type_name = g_strdup (pl_message_type_to_string (type));
  real->pub.sdp_mline_index = -1;

  return &real->pub;
}

void
pl_message_free (PlMessage *msg)
{
  PlMessageReal *real = (PlMessageReal *) msg;

  if (msg == NULL)
    return;

  g_clear_pointer (&real->object, json_object_unref);
  g_free (msg->type_name);
  g_free (msg->call_id);
  g_free (msg->number);
  g_free (msg->token);
  g_free (msg->to);
  g_free (msg->from);
  g_free (msg->sdp);
  g_free (msg->candidate);
  g_free (msg->reason);
  g_strfreev (msg->numbers);
  g_free (msg->code);
  g_free (msg->message);
  g_free (msg->ref);
  g_free (real);
}

/* Bounded scanning of JSON text, for what must not reach json-glib: its
 * parser recurses once per nesting level, so a message nested 100,000 deep
 * overflows the stack. Neither function below recurses or allocates. */

/* @pos is just after an opening quote. Returns the index of the closing
 * quote, or @length when the text ends first; *@escaped tells whether the
 * string holds a backslash escape. */
static gsize
scan_string (const char *text,
             gsize       length,
             gsize       pos,
             gboolean   *escaped)
{
  *escaped = FALSE;
  while (pos < length) {
    if (text[pos] == '"')
      return pos;
    if (text[pos] == '\\') {
      *escaped = TRUE;
      pos++;
    }
    pos++;
  }

  return length;
}

static gsize
skip_space (const char *text,
            gsize       length,
            gsize       pos)
{
  while (pos < length && g_ascii_isspace (text[pos]))
    pos++;

  return pos;
}

/* @pos is at the start of a value. Returns the index just past it (or
 * @length when the text ends first), without looking inside. */
static gsize
skip_value (const char *text,
            gsize       length,
            gsize       pos)
{
  gsize depth = 0;
  gboolean escaped;

  for (; pos < length; pos++) {
    switch (text[pos]) {
    case '"':
      pos = scan_string (text, length, pos + 1, &escaped);
      if (depth == 0)
        return MIN (pos + 1, length);
      break;
    case '{':
    case '[':
      depth++;
      break;
    case '}':
    case ']':
      if (depth == 0)
        return pos;     /* the end of the enclosing object */
      if (--depth == 0)
        return pos + 1;
      break;
    case ',':
      if (depth == 0)
        return pos;
      break;
    default:
      break;
    }
  }

  return length;
}

PlMessage *
pl_message_peek (const char *text,
                 gsize       length)
{
  PlMessage *msg;
  gsize pos;

  g_return_val_if_fail (text != NULL || length == 0, NULL);

  pos = skip_space (text, length, 0);
  if (pos >= length || text[pos] != '{')
    return NULL;

  msg = pl_message_new (PL_MESSAGE_UNKNOWN);
  pos++;

  while (pos < length) {
    gsize key_start, key_end, value_start, value_end;
    gboolean key_escaped, value_escaped = TRUE;
    char **field = NULL;

    pos = skip_space (text, length, pos);
    if (pos >= length || text[pos] != '"')
      break;
    key_start = pos + 1;
    key_end = scan_string (text, length, key_start, &key_escaped);
    pos = skip_space (text, length, key_end + 1);
    if (pos >= length || text[pos] != ':')
      break;
    pos = skip_space (text, length, pos + 1);
    if (pos >= length)
      break;

    if (!key_escaped && key_end - key_start == strlen ("type") &&
        memcmp (text + key_start, "type", key_end - key_start) == 0)
      field = &msg->type_name;
    else if (!key_escaped && key_end - key_start == strlen ("call_id") &&
             memcmp (text + key_start, "call_id", key_end - key_start) == 0)
      field = &msg->call_id;

    value_start = pos + 1;
    if (text[pos] == '"') {
      value_end = scan_string (text, length, value_start, &value_escaped);
      pos = value_end + 1;
      /* Only whole strings that say what they mean: no escapes, valid UTF-8. */
      if (field != NULL && *field == NULL && value_end < length && !value_escaped &&
          g_utf8_validate (text + value_start, value_end - value_start, NULL))
        *field = g_strndup (text + value_start, value_end - value_start);
    } else {
      pos = skip_value (text, length, pos);
    }

    pos = skip_space (text, length, pos);
    if (pos >= length || text[pos] != ',')
      break;
    pos++;
  }

  msg->type = pl_message_type_from_string (msg->type_name);

  return msg;
}

static gboolean
is_json_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The code unit of the \\uXXXX escape at @text, or -1. */
static int
read_unit (const char *text,
           gsize       length)
{
  int unit = 0;

  if (length < 6 || text[0] != '\\' || text[1] != 'u')
    return -1;
  for (guint k = 2; k < 6; k++) {
    int digit = g_ascii_xdigit_value (text[k]);

    if (digit < 0)
      return -1;
    unit = unit * 16 + digit;
  }

  return unit;
}

/* A frame is one JSON object. json-glib 1.6 accepts several top-level
 * values ("{…}{…}", "5 {…}"), keeps the last one and leaks the others
 * (found by fuzz-protocol), so this refuses, before json-glib sees it, text
 * that does not start with an object or has more than white space after
 * its end; and text nested deeper than PL_PROTOCOL_MAX_DEPTH, since
 * json-glib's parser recurses once per level (100,000 levels overflowed
 * the server's stack). Unbalanced text is left to json-glib to refuse. */
static gboolean
check_single_object (const char *text,
                     gsize       length,
                     GError    **error)
{
  gboolean in_string = FALSE;
  gsize depth = 0;
  gsize i = 0;

  while (i < length && is_json_space (text[i]))
    i++;
  if (i == length)
    return TRUE;
  if (text[i] != '{')
    return bad_request (error, "message is not a JSON object");

  for (; i < length; i++) {
    char c = text[i];

    if (in_string) {
      if (c == '\\' && i + 1 < length && text[i + 1] == 'u') {
        int unit = read_unit (text + i, length - i);

        /* json-glib 1.6 leaks the object being read on a \u without four
         * hex digits, and a GString on an unpaired surrogate, and turns some
         * of those into invalid UTF-8 (all found by fuzz-protocol). */
        if (unit < 0)
          return bad_request (error, "message has an invalid \\u escape");
        if (unit >= 0xdc00 && unit <= 0xdfff)
          return bad_request (error, "message has an unpaired surrogate escape");
        if (unit >= 0xd800 && unit <= 0xdbff) {
          int low = read_unit (text + i + 6, length - i - MIN (length - i, 6));

          if (length - i < 12 || low < 0xdc00 || low > 0xdfff)
            return bad_request (error, "message has an unpaired surrogate escape");
          i += 6;
        }
        i++;
      } else if (c == '\\')
        i++;
      else if (c == '"')
        in_string = FALSE;
    } else if (c == '"') {
      in_string = TRUE;
    } else if (c == '{' || c == '[') {
      if (++depth > PL_PROTOCOL_MAX_DEPTH)
        return bad_request (error, "message nests objects and arrays deeper than %d levels",
                            PL_PROTOCOL_MAX_DEPTH);
    } else if (c == '}' || c == ']') {
      if (--depth == 0)
        break;
    }
  }

  for (i++; i < length; i++) {
    if (!is_json_space (text[i]))
      return bad_request (error, "message is not one JSON object (more follows it)");
  }

  return TRUE;
}

PlMessage *
pl_message_parse (const char *text,
                  gssize      length,
                  GError    **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  PlMessageReal *real;
  JsonObject *object;
  JsonNode *root;

  g_return_val_if_fail (text != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (text == NULL)
    text = "";
  if (length < 0)
    length = strlen (text);

  if (!g_utf8_validate (text, length, NULL)) {
    bad_request (error, "message is not valid UTF-8 text");
    return NULL;
  }

  if (!check_single_object (text, length, error))
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, length, &local_error)) {
    /* json-glib quotes the offending token as it decoded it. */
    g_autofree char *reason = g_utf8_make_valid (local_error->message, -1);

    bad_request (error, "message is not JSON: %s", reason);
    return NULL;
  }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    bad_request (error, "message is not a JSON object");
    return NULL;
  }

  object = json_node_get_object (root);
  real = (PlMessageReal *) pl_message_new (PL_MESSAGE_UNKNOWN);
  real->object = json_object_ref (object);

  /* A "type" or "call_id" that is not UTF-8 is not one (node_get_utf8 ()):
   * the error reply carries neither as `ref` or `call_id`. */
  real->pub.type_name = g_strdup (node_get_utf8 (json_object_get_member (object, "type")));
  real->pub.type = pl_message_type_from_string (real->pub.type_name);
  real->pub.call_id = g_strdup (node_get_utf8 (json_object_get_member (object, "call_id")));

  return &real->pub;
}

gboolean
pl_message_validate (PlMessage          *msg,
                     PlProtocolDirection direction,
                     GError            **error)
{
  PlMessageReal *real = (PlMessageReal *) msg;

  g_return_val_if_fail (msg != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (msg->type == PL_MESSAGE_UNKNOWN) {
    if (msg->type_name != NULL)
      return bad_request (error, "unknown message type '%s'", msg->type_name);
    return bad_request (error, "missing or non-string field 'type'");
  }

  if (!check_direction (msg->type, direction, error))
    return FALSE;

  if (real->object != NULL && !read_fields (msg, real->object, direction, error))
    return FALSE;

  return check_fields (msg, direction, error);
}

static void
add_string (JsonBuilder *builder,
            const char  *field,
            const char  *value)
{
  if (value == NULL)
    return;

  json_builder_set_member_name (builder, field);
  json_builder_add_string_value (builder, value);
}

char *
pl_message_to_json (const PlMessage *msg)
{
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (msg != NULL, NULL);
  g_return_val_if_fail (pl_message_type_to_string (msg->type) != NULL, NULL);

  builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  add_string (builder, "type", pl_message_type_to_string (msg->type));

  switch (msg->type) {
  case PL_MESSAGE_REGISTER:
    add_string (builder, "number", msg->number);
    add_string (builder, "token", msg->token);
    break;

  case PL_MESSAGE_REGISTERED:
    add_string (builder, "number", msg->number);
    break;

  case PL_MESSAGE_CALL:
    add_string (builder, "call_id", msg->call_id);
    add_string (builder, "to", msg->to);
    add_string (builder, "from", msg->from);
    add_string (builder, "sdp", msg->sdp);
    break;

  case PL_MESSAGE_RINGING:
    add_string (builder, "call_id", msg->call_id);
    break;

  case PL_MESSAGE_ACCEPT:
    add_string (builder, "call_id", msg->call_id);
    add_string (builder, "sdp", msg->sdp);
    break;

  case PL_MESSAGE_ICE:
    add_string (builder, "call_id", msg->call_id);
    add_string (builder, "candidate", msg->candidate);
    if (msg->sdp_mline_index >= 0) {
      json_builder_set_member_name (builder, "sdp_mline_index");
      json_builder_add_int_value (builder, msg->sdp_mline_index);
    }
    break;

  case PL_MESSAGE_HANGUP:
    add_string (builder, "call_id", msg->call_id);
    add_string (builder, "reason", msg->reason);
    break;

  case PL_MESSAGE_PEERS:
    if (msg->numbers != NULL) {
      json_builder_set_member_name (builder, "numbers");
      json_builder_begin_array (builder);
      for (guint i = 0; msg->numbers[i] != NULL; i++)
        json_builder_add_string_value (builder, msg->numbers[i]);
      json_builder_end_array (builder);
    }
    break;

  case PL_MESSAGE_ERROR:
    add_string (builder, "code", msg->code);
    add_string (builder, "message", msg->message);
    add_string (builder, "ref", msg->ref);
    add_string (builder, "call_id", msg->call_id);
    break;

  case PL_MESSAGE_UNKNOWN:
  default:
    g_assert_not_reached ();
  }

  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  return json_to_string (root, FALSE);
}

const char *
pl_message_type_to_string (PlMessageType type)
{
  if ((guint) type >= G_N_ELEMENTS (message_type_names))
    return NULL;

  return message_type_names[type];
}

PlMessageType
pl_message_type_from_string (const char *name)
{
  int i = _pl_name_lookup (message_type_names, G_N_ELEMENTS (message_type_names), name);

  return i < 0 ? PL_MESSAGE_UNKNOWN : (PlMessageType) i;
}

char *
pl_protocol_build_error (PlProtocolError code,
                         const char     *message,
                         const char     *ref,
                         const char     *call_id)
{
  g_autoptr(PlMessage) msg = pl_message_new (PL_MESSAGE_ERROR);

  msg->code = g_strdup (pl_protocol_error_to_string (code));
  msg->message = g_strdup (message != NULL ? message : msg->code);
  msg->ref = g_strdup (ref);
  msg->call_id = g_strdup (call_id);

  return pl_message_to_json (msg);
}

static const char * const hangup_reason_names[] = {
  [PL_HANGUP_NORMAL] = "normal",
  [PL_HANGUP_REJECTED] = "rejected",
  [PL_HANGUP_BUSY] = "busy",
  [PL_HANGUP_NOT_FOUND] = "not-found",
  [PL_HANGUP_TIMEOUT] = "timeout",
  [PL_HANGUP_FAILED] = "failed",
  [PL_HANGUP_DISCONNECTED] = "disconnected",
};

const char *
pl_hangup_reason_to_string (PlHangupReason reason)
{
  g_return_val_if_fail ((guint) reason < G_N_ELEMENTS (hangup_reason_names), "normal");

  return hangup_reason_names[reason];
}

gboolean
pl_hangup_reason_from_string (const char     *name,
                              PlHangupReason *out_reason)
{
  int i;

  g_return_val_if_fail (out_reason != NULL, FALSE);

  i = _pl_name_lookup (hangup_reason_names, G_N_ELEMENTS (hangup_reason_names), name);
  if (i < 0)
    return FALSE;

  *out_reason = i;
  return TRUE;
}

char *
pl_protocol_build_hangup (const char     *call_id,
                          PlHangupReason  reason)
{
  g_autoptr(PlMessage) msg = pl_message_new (PL_MESSAGE_HANGUP);

  g_return_val_if_fail (call_id != NULL, NULL);

  msg->call_id = g_strdup (call_id);
  msg->reason = g_strdup (pl_hangup_reason_to_string (reason));

  return pl_message_to_json (msg);
}

gboolean
pl_number_is_valid (const char *number)
{
  gsize i;

  if (number == NULL)
    return FALSE;

  for (i = 0; number[i] != '\0'; i++) {
    if (i >= PL_NUMBER_MAX_LEN || !is_number_char (number[i]))
      return FALSE;
  }

  return i >= 1;
}

gboolean
pl_call_id_is_valid (const char *call_id)
{
  gsize i;

  if (call_id == NULL)
    return FALSE;

  for (i = 0; call_id[i] != '\0'; i++) {
    if (i >= PL_CALL_ID_MAX_LEN || !is_call_id_char (call_id[i]))
      return FALSE;
  }

  return i >= PL_CALL_ID_MIN_LEN;
}

char *
pl_call_id_new (void)
{
  return g_uuid_string_random ();
}
