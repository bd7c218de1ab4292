/* plrefs.c — a GStreamer tracer that finds the owner of a lost ref
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A debugging aid, not built with the project (HACKING.md, Debug). For every
 * GstBuffer (and with PLREFS_CAPS=1 every GstCaps) it records the caller
 * stack of each creation, ref and unref, and at exit writes the history of
 * those still alive to $PLREFS_FILE.<pid>. After every call has ended and
 * every pipeline is gone, a buffer still alive is a lost ref, and the last
 * ref without its unref names who holds it. The leaks tracer of GStreamer
 * resolves symbols for each trace and is too slow for a torture run; this
 * one stores raw return addresses (map them with objdump -d).
 *
 *   gcc -shared -fPIC -O1 -g -o libgstplrefs.so plrefs.c \
 *       $(pkg-config --cflags --libs gstreamer-1.0)
 *   GST_PLUGIN_PATH=$PWD GST_TRACERS=plrefs PLREFS_FILE=/tmp/refs \
 *       meson test -C build-asan --setup asan group-hangup
 *
 * Its table keeps every live object reachable, so LeakSanitizer reports
 * none of them; read the files instead. Its lock serializes every ref and
 * unref of the types it follows, which can hide a race.
 */
#include <gst/gst.h>
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define NFRAMES 20
#define MAXOPS 1000

typedef struct { char op; int rc; int n; void *frames[NFRAMES]; guint64 ts; } Op;
typedef struct { GType type; int nops; int cap; Op ops[]; } Hist;

static GMutex lock;
static GHashTable *live;
static GType buffer_type, caps_type;
static int want_caps;

typedef struct { GstTracer parent; } PlRefs;
typedef struct { GstTracerClass parent_class; } PlRefsClass;
G_DEFINE_TYPE (PlRefs, pl_refs, GST_TYPE_TRACER)

static void
record (GstMiniObject *obj, char op, int rc, guint64 ts)
{
  Hist *h;
  Op o;
  if (obj->type != buffer_type && !(want_caps && obj->type == caps_type))
    return;
  if (op != 'd') {
    o.op = op; o.rc = rc; o.ts = ts;
    o.n = backtrace (o.frames, NFRAMES);
  }
  g_mutex_lock (&lock);
  h = g_hash_table_lookup (live, obj);
  if (op == 'd') {
    if (h != NULL)
      g_hash_table_remove (live, obj);
    g_mutex_unlock (&lock);
    return;
  }
  if (h == NULL) {
    if (op != 'c') { g_mutex_unlock (&lock); return; }
    h = malloc (sizeof (Hist) + 8 * sizeof (Op));
    h->type = obj->type; h->nops = 0; h->cap = 8;
    g_hash_table_insert (live, obj, h);
  }
  if (h->nops == h->cap && h->cap < MAXOPS) {
    h->cap *= 2;
    h = realloc (h, sizeof (Hist) + h->cap * sizeof (Op));
    g_hash_table_steal (live, obj);
    g_hash_table_insert (live, obj, h);
  }
  if (h->nops < h->cap)
    h->ops[h->nops++] = o;
  g_mutex_unlock (&lock);
}

static void on_created (GstTracer *t, guint64 ts, GstMiniObject *o) { record (o, 'c', 1, ts); }
static void on_reffed (GstTracer *t, guint64 ts, GstMiniObject *o, gint rc) { record (o, '+', rc, ts); }
static void on_unreffed (GstTracer *t, guint64 ts, GstMiniObject *o, gint rc) { record (o, '-', rc, ts); }
static void on_destroyed (GstTracer *t, guint64 ts, GstMiniObject *o) { record (o, 'd', 0, ts); }

static void
dump (void)
{
  const char *tmpl = g_getenv ("PLREFS_FILE");
  char path[512];
  FILE *f;
  GHashTableIter it;
  gpointer key, value;

  if (tmpl == NULL) return;
  snprintf (path, sizeof path, "%s.%d", tmpl, (int) getpid ());
  f = fopen (path, "w");
  if (f == NULL) return;
  g_mutex_lock (&lock);
  g_hash_table_iter_init (&it, live);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    Hist *h = value;
    fprintf (f, "=== %s %p ops=%d\n", h->type == buffer_type ? "GstBuffer" : "GstCaps", key, h->nops);
    if (h->type == caps_type) {
      char *s = gst_caps_to_string (key);
      fprintf (f, "caps: %s\n", s);
      g_free (s);
    }
    for (int i = 0; i < h->nops; i++) {
      Op *o = &h->ops[i];
      fprintf (f, "  %c rc=%d ts=%" G_GUINT64_FORMAT "\n", o->op, o->rc, o->ts);
      fflush (f);
      backtrace_symbols_fd (o->frames + 1, o->n - 1, fileno (f));
    }
  }
  g_mutex_unlock (&lock);
  fclose (f);
}

static void
pl_refs_init (PlRefs *self)
{
  GstTracer *t = GST_TRACER (self);
  buffer_type = GST_TYPE_BUFFER;
  caps_type = GST_TYPE_CAPS;
  want_caps = g_getenv ("PLREFS_CAPS") != NULL;
  live = g_hash_table_new_full (NULL, NULL, NULL, free);
  gst_tracing_register_hook (t, "mini-object-created", G_CALLBACK (on_created));
  gst_tracing_register_hook (t, "mini-object-reffed", G_CALLBACK (on_reffed));
  gst_tracing_register_hook (t, "mini-object-unreffed", G_CALLBACK (on_unreffed));
  gst_tracing_register_hook (t, "mini-object-destroyed", G_CALLBACK (on_destroyed));
  atexit (dump);
}

static void pl_refs_class_init (PlRefsClass *klass) {}

static gboolean
plugin_init (GstPlugin *plugin)
{
  return gst_tracer_register (plugin, "plrefs", pl_refs_get_type ());
}

#define PACKAGE "plrefs"
GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, plrefs, "ref history", plugin_init, "1.0", "LGPL", "plrefs", "local")
