#!/usr/bin/env python3
"""Sends `Hello` and a newline to HOST PORT, half-closes, prints the reply
(no newline): what `make test-image` checks a container with."""
import socket
import sys

s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(b"Hello\n")
s.shutdown(socket.SHUT_WR)
reply = b""
while chunk := s.recv(4096):
    reply += chunk
print(reply.decode().rstrip("\n"), end="")
