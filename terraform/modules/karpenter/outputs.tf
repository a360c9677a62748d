output "controller_role_arn" {
  description = "IRSA role ARN of the Karpenter controller."
  value       = aws_iam_role.controller.arn
}

output "node_role_arn" {
  description = "IAM role of the nodes Karpenter launches."
  value       = aws_iam_role.node.arn
}

output "interruption_queue_name" {
  description = "SQS queue through which EventBridge tells Karpenter about spot interruptions and maintenance."
  value       = aws_sqs_queue.interruption.name
}

output "node_pool_name" {
  description = "Name of the Karpenter NodePool (and EC2NodeClass) for task pods."
  value       = local.node_pool_name
}
