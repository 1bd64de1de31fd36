// Azure Database for PostgreSQL flexible server, the application database,
// the "allow Azure services" firewall rule and the extension allow-list.

@description('Azure region for the resources.')
param location string

@description('Server name (3-63 lowercase letters, digits and hyphens; globally unique).')
@minLength(3)
@maxLength(63)
param serverName string

@description('Name of the application database.')
param databaseName string

@description('PostgreSQL major version.')
@allowed([
  '16'
])
param version string = '16'

@description('Compute SKU, e.g. Standard_B1ms (Burstable), Standard_D2ds_v5 (GeneralPurpose), Standard_E2ds_v5 (MemoryOptimized).')
param skuName string

@description('Storage size in GB.')
param storageSizeGB int = 32

@description('Backup retention in days.')
@minValue(7)
@maxValue(35)
param backupRetentionDays int = 7

@description('Administrator login for password authentication.')
param administratorLogin string

@description('Administrator password for password authentication.')
@secure()
param administratorLoginPassword string

@description('Optional Microsoft Entra administrator: object id (empty = none).')
param entraAdminObjectId string = ''

@description('Optional Microsoft Entra administrator: display / principal name.')
param entraAdminPrincipalName string = ''

@description('Optional Microsoft Entra administrator: principal type.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param entraAdminPrincipalType string = 'Group'

@description('Comma-separated value of the azure.extensions server parameter.')
param allowedExtensions string

@description('Tags applied to every resource.')
param tags object = {}

// Tier follows from the SKU family: B = Burstable, E = memory optimised,
// everything else (D...) = general purpose.
var skuTier = startsWith(skuName, 'Standard_B')
  ? 'Burstable'
  : (startsWith(skuName, 'Standard_E') ? 'MemoryOptimized' : 'GeneralPurpose')

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: serverName
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: version
    administratorLogin: administratorLogin
    administratorLoginPassword: administratorLoginPassword
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Enabled'
      tenantId: tenant().tenantId
    }
    storage: {
      storageSizeGB: storageSizeGB
      autoGrow: 'Disabled'
    }
    backup: {
      backupRetentionDays: backupRetentionDays
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
    network: {
      publicNetworkAccess: 'Enabled'
    }
    createMode: 'Default'
  }
}

// The flexible server accepts one control-plane change at a time, so the
// child resources below are chained with dependsOn instead of running in
// parallel (parallel writes fail with ServerIsBusy / conflicting operations).
resource extensions 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: server
  name: 'azure.extensions'
  properties: {
    value: allowedExtensions
    source: 'user-override'
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: server
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  dependsOn: [
    extensions
  ]
}

resource allowAzureServices 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: server
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
  dependsOn: [
    database
  ]
}

resource entraAdmin 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = if (!empty(entraAdminObjectId)) {
  parent: server
  name: empty(entraAdminObjectId) ? 'none' : entraAdminObjectId
  properties: {
    principalType: entraAdminPrincipalType
    principalName: entraAdminPrincipalName
    tenantId: tenant().tenantId
  }
  dependsOn: [
    allowAzureServices
  ]
}

output serverName string = server.name
output fqdn string = server.properties.fullyQualifiedDomainName
output databaseName string = database.name
