/* pl-server.c — being written */
