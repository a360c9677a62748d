output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "The three availability zones the subnets span."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "Public subnets (NAT gateways), one per availability zone."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets for EKS nodes and pods, one per availability zone."
  value       = aws_subnet.private[*].id
}

output "database_subnet_ids" {
  description = "Isolated subnets for RDS, one per availability zone."
  value       = aws_subnet.database[*].id
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway endpoint (bucket policies may pin access to it)."
  value       = aws_vpc_endpoint.s3.id
}

output "interface_endpoint_ids" {
  description = "IDs of the interface endpoints, by service name."
  value       = { for service, endpoint in aws_vpc_endpoint.interface : service => endpoint.id }
}
