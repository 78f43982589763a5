// SPDX-License-Identifier: Apache-2.0
//
// A C++17 consumer: every public header of the core and the simulator
// included from C++ (their extern "C" guards give the functions C
// linkage, so the link below fails without them), a standard container
// over a sys_heap through an allocator, and the kernel layer's
// K_HEAP_DEFINE and k_malloc. Prints "kheap <version> c++: ok".
#include <kheap/config.h>
#include <kheap/failure_injection.h>
#include <kheap/k_heap.h>
#include <kheap/port.h>
#include <kheap/sanitizer.h>
#include <kheap/sim.h>
#include <kheap/tracing.h>
#include <kheap/version.h>
#include <zephyr/irq_offload.h>
#include <zephyr/kernel.h>
#include <zephyr/kernel/thread_stack.h>
#include <zephyr/sys/__assert.h>
#include <zephyr/sys/heap_listener.h>
#include <zephyr/sys/mem_stats.h>
#include <zephyr/sys/printk.h>
#include <zephyr/sys/sys_heap.h>
#include <zephyr/sys/util.h>

#include <cstddef>
#include <new>
#include <optional>
#include <vector>

static_assert(KHEAP_VERSION_MAJOR >= 0 && KHEAP_VERSION_MINOR >= 0,
	      "kheap/version.h gives the version as integers");

namespace
{

// A standard allocator whose storage is one sys_heap.
template <typename T> class heap_allocator
{
public:
	using value_type = T;

	explicit heap_allocator(sys_heap *heap) noexcept : heap_(heap)
	{
	}
	template <typename U>
	heap_allocator(const heap_allocator<U> &other) noexcept
	    : heap_(other.heap())
	{
	}

	T *allocate(std::size_t count)
	{
		void *block = sys_heap_aligned_alloc(heap_, alignof(T),
						     count * sizeof(T));
		if (block == nullptr) {
			throw std::bad_alloc();
		}
		return static_cast<T *>(block);
	}
	void deallocate(T *block, std::size_t) noexcept
	{
		sys_heap_free(heap_, block);
	}
	sys_heap *heap() const noexcept
	{
		return heap_;
	}

	template <typename U>
	bool operator==(const heap_allocator<U> &other) const noexcept
	{
		return heap_ == other.heap();
	}
	template <typename U>
	bool operator!=(const heap_allocator<U> &other) const noexcept
	{
		return heap_ != other.heap();
	}

private:
	sys_heap *heap_;
};

alignas(8) unsigned char region[8192];
sys_heap heap;

std::optional<long> sum_on_heap()
{
	std::vector<int, heap_allocator<int>> values{
		heap_allocator<int>(&heap)};

	for (int i = 1; i <= 100; i++) {
		values.push_back(i);
	}
	long sum = 0;
	for (int value : values) {
		sum += value;
	}
	if (!sys_heap_validate(&heap)) {
		return std::nullopt;
	}
	return sum;
}

} // namespace

K_HEAP_DEFINE(cxx_heap, 1024);

int main()
{
	sys_heap_init(&heap, region, sizeof(region));
	if (auto sum = sum_on_heap(); !sum || *sum != 5050) {
		printk("kheap c++ consumer: vector on a sys_heap went wrong\n");
		return 1;
	}
	void *block = k_heap_alloc(&cxx_heap, 64, K_NO_WAIT);
	void *text = k_malloc(16);

	if (block == nullptr || text == nullptr) {
		printk("kheap c++ consumer: kernel-layer allocation failed\n");
		return 1;
	}
	k_heap_free(&cxx_heap, block);
	k_free(text);
	printk("kheap %s c++: ok\n", KHEAP_VERSION_STRING);
	return 0;
}
