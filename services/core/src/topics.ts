export const defaultTopicPrefix = 'quickdeal.tickets.';

/** A deal id is also a Kubernetes name and part of a Kafka topic name: lowercase RFC 1123 label characters. */
export const dealIdPattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function topicForDeal(dealId: string, prefix = defaultTopicPrefix): string {
  return `${prefix}${dealId}`;
}

export function dealForTopic(topic: string, prefix = defaultTopicPrefix): string | undefined {
  if (!topic.startsWith(prefix)) return undefined;
  const dealId = topic.slice(prefix.length);
  return dealIdPattern.test(dealId) ? dealId : undefined;
}
