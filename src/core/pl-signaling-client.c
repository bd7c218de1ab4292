/* pl-signaling-client.c — being written */
