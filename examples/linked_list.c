/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example from Zephyr's memory-pool module documentation: a dynamic
 * data structure (linked list). The function is the documentation's code
 * as given; main() runs it.
 */
#include <zephyr/kernel.h>

struct node {
	int value;
	struct node *next;
};

void dynamic_data_structure_example(void)
{
	/* 创建链表节点 */
	struct node *head = k_malloc(sizeof(struct node));
	if (head) {
		head->value = 1;
		head->next = NULL;

		/* 添加新节点 */
		struct node *new_node = k_malloc(sizeof(struct node));
		if (new_node) {
			new_node->value = 2;
			new_node->next = NULL;
			head->next = new_node;

			/* 遍历链表 */
			struct node *current = head;
			while (current) {
				printk("Node value: %d\n", current->value);
				current = current->next;
			}

			/* 释放链表 */
			current = head;
			while (current) {
				struct node *temp = current;
				current = current->next;
				k_free(temp);
			}
		}
	}
}

int main(void)
{
	dynamic_data_structure_example();
	return 0;
}
