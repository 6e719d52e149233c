/* The seed's client: connect, send, one read(fd, buf, 1024), print.
 * Optional argv[1]: port (default 12345). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 12345;
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in serv_addr;
    memset(&serv_addr, 0, sizeof(serv_addr));
    serv_addr.sin_family = AF_INET;
    serv_addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &serv_addr.sin_addr);
    if (connect(sock, (struct sockaddr *)&serv_addr, sizeof(serv_addr)) < 0) { perror("connect"); return 1; }
    const char *hello = "Hello from client";
    send(sock, hello, strlen(hello), 0);
    printf("Hello message sent to server\n");
    char buffer[1024] = {0};
    read(sock, buffer, 1024);
    printf("%s\n", buffer);
    close(sock);
    return 0;
}
