/*
 * capsync, Linux simulator only: a NOR flash image in a file, read and
 * programmed through file positions (pread/pwrite), so the image never sits
 * in XS's chunk pool. On an ESP32 the capture ring lives in a flash partition
 * outside the XS heap; this keeps the simulator's heap figures comparable
 * (modules/platform/lin/flash.ts is the FlashPort around it).
 *
 * Every program and erase reaches the file (the kernel's page cache) before
 * the call returns, so killing mcsim keeps what a chip would have kept.
 * Programming only clears bits: a write that would set one is refused here,
 * before any byte changes, with the offset of the first offending byte.
 */
#include "xsmc.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void writeAll(xsMachine *the, int fd, const uint8_t *bytes, size_t length, off_t offset)
{
	while (length > 0) {
		ssize_t n = pwrite(fd, bytes, length, offset);
		if (n < 0) {
			if (errno == EINTR) continue;
			xsUnknownError("flash image write failed: %s", strerror(errno));
		}
		bytes += n;
		length -= (size_t)n;
		offset += n;
	}
}

static void readAll(xsMachine *the, int fd, uint8_t *bytes, size_t length, off_t offset)
{
	while (length > 0) {
		ssize_t n = pread(fd, bytes, length, offset);
		if (n < 0) {
			if (errno == EINTR) continue;
			xsUnknownError("flash image read failed: %s", strerror(errno));
		}
		if (n == 0) xsUnknownError("flash image is shorter than expected");
		bytes += n;
		length -= (size_t)n;
		offset += n;
	}
}

static void fillErased(xsMachine *the, int fd, off_t offset, size_t length)
{
	uint8_t erased[4096];
	memset(erased, 0xFF, sizeof(erased));
	while (length > 0) {
		size_t n = length < sizeof(erased) ? length : sizeof(erased);
		writeAll(the, fd, erased, n, offset);
		offset += (off_t)n;
		length -= n;
	}
}

/* open(path, size): the image's descriptor; a missing or wrongly sized image becomes all 0xFF. */
void xs_capsync_nor_open(xsMachine *the)
{
	const char *path = xsmcToString(xsArg(0));
	int32_t size = xsmcToInteger(xsArg(1));
	struct stat status;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) xsUnknownError("cannot open flash image %s: %s", path, strerror(errno));
	if (fstat(fd, &status) != 0 || status.st_size != size) {
		if (ftruncate(fd, 0) != 0) {
			close(fd);
			xsUnknownError("cannot reset flash image %s: %s", path, strerror(errno));
		}
		fillErased(the, fd, 0, (size_t)size);
	}
	xsmcSetInteger(xsResult, fd);
}

/* read(fd, offset, length): a fresh ArrayBuffer, as Moddable's ESP32 flash module returns. */
void xs_capsync_nor_read(xsMachine *the)
{
	int fd = xsmcToInteger(xsArg(0));
	int32_t offset = xsmcToInteger(xsArg(1));
	int32_t length = xsmcToInteger(xsArg(2));
	xsmcSetArrayBuffer(xsResult, NULL, length);
	readAll(the, fd, xsmcToArrayBuffer(xsResult), (size_t)length, offset);
}

/*
 * program(fd, offset, data): -1 once `data` is in the file, or the offset of
 * the first byte that would turn a 0 into a 1 (nothing written then).
 */
void xs_capsync_nor_program(xsMachine *the)
{
	int fd = xsmcToInteger(xsArg(0));
	int32_t offset = xsmcToInteger(xsArg(1));
	void *data;
	xsUnsignedValue count;
	uint8_t current[512];
	xsmcGetBufferReadable(xsArg(2), &data, &count);
	const uint8_t *bytes = data;
	for (xsUnsignedValue done = 0; done < count;) {
		size_t n = count - done < sizeof(current) ? count - done : sizeof(current);
		readAll(the, fd, current, n, offset + (off_t)done);
		for (size_t i = 0; i < n; i++) {
			if (bytes[done + i] & ~current[i]) {
				xsmcSetInteger(xsResult, offset + (int32_t)(done + i));
				return;
			}
		}
		done += n;
	}
	writeAll(the, fd, bytes, count, offset);
	xsmcSetInteger(xsResult, -1);
}

/* erase(fd, offset, length): the range becomes 0xFF. */
void xs_capsync_nor_erase(xsMachine *the)
{
	int fd = xsmcToInteger(xsArg(0));
	fillErased(the, fd, xsmcToInteger(xsArg(1)), (size_t)xsmcToInteger(xsArg(2)));
}

void xs_capsync_nor_close(xsMachine *the)
{
	close(xsmcToInteger(xsArg(0)));
}
