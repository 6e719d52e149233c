/* The seed's server: one read(fd, buf, 1024), print, reply. Works by luck on
 * a stream socket; kept verbatim in spirit to test interop with sockframe's
 * raw framing. Optional argv[1]: port (default 12345). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 12345;
    int server_fd = socket(AF_INET, SOCK_STREAM, 0);
    int opt = 1;
    setsockopt(server_fd, SOL_SOCKET, SO_REUSEADDR, &opt, sizeof(opt));
    struct sockaddr_in address;
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = inet_addr("127.0.0.1");
    address.sin_port = htons(port);
    if (bind(server_fd, (struct sockaddr *)&address, sizeof(address)) < 0) { perror("bind"); return 1; }
    if (listen(server_fd, 3) < 0) { perror("listen"); return 1; }
    printf("listening\n");
    fflush(stdout);
    int fd = accept(server_fd, NULL, NULL);
    if (fd < 0) { perror("accept"); return 1; }
    char buffer[1024] = {0};
    read(fd, buffer, 1024);
    printf("%s\n", buffer);
    const char *hello = "Hello from server";
    send(fd, hello, strlen(hello), 0);
    printf("Hello message sent to client\n");
    close(fd);
    close(server_fd);
    return 0;
}
