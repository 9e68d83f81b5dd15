<#--
  "Remembered devices" (kc_action=backup-code-devices). Attribute backupCodeDevices: list of maps with name,
  firstSeen, lastSeen (formatted for people) and firstSeenIso, lastSeenIso.
  Fields: backupCodeForgetAll (forget every device), backupCodeDevicesBack (done).
-->
<#import "template.ftl" as layout>
<@layout.registrationLayout; section>
<!-- template: backup-code-devices.ftl -->
    <#if section = "header">
        ${msg("backupCodeDevicesTitle")}
    <#elseif section = "form">
        <#if !(properties.styles!'')?contains('backup-codes.css')>
            <link href="${url.resourcesPath}/css/backup-codes.css" rel="stylesheet" />
        </#if>
        <p id="backup-code-devices-intro" class="bc-explain">${msg("backupCodeDevicesIntro")}</p>
        <#if backupCodeDevices?has_content>
            <table id="backup-code-devices" class="bc-devices">
                <caption class="bc-visually-hidden">${msg("backupCodeDevicesTitle")}</caption>
                <thead>
                    <tr>
                        <th scope="col">${msg("backupCodeDevicesName")}</th>
                        <th scope="col">${msg("backupCodeDevicesFirstSeen")}</th>
                        <th scope="col">${msg("backupCodeDevicesLastSeen")}</th>
                    </tr>
                </thead>
                <tbody>
                    <#list backupCodeDevices as device>
                        <tr class="bc-device">
                            <td class="bc-device-name"><#if device.name?has_content>${device.name}<#else>${msg("backupCodeDevicesUnknown")}</#if></td>
                            <td><time datetime="${device.firstSeenIso}">${device.firstSeen}</time></td>
                            <td><time datetime="${device.lastSeenIso}">${device.lastSeen}</time></td>
                        </tr>
                    </#list>
                </tbody>
            </table>
        <#else>
            <p id="backup-code-devices-none" class="bc-explain">${msg("backupCodeDevicesNone")}</p>
        </#if>
        <form id="kc-backup-code-devices-form" class="${properties.kcFormClass!}" action="${url.loginAction}" method="post">
            <div class="${properties.kcFormGroupClass!}">
                <div class="${properties.kcFormActionGroupClass!} bc-actions-stacked">
                    <#if backupCodeDevices?has_content>
                        <button id="backup-code-forget-all" type="submit" name="backupCodeForgetAll" value="true"
                                class="${properties.kcButtonSecondaryClass!} ${properties.kcButtonBlockClass!}">${msg("backupCodeDevicesForgetAll")}</button>
                    </#if>
                    <button id="backup-code-devices-back" type="submit" name="backupCodeDevicesBack" value="true" autofocus
                            class="${properties.kcButtonPrimaryClass!} ${properties.kcButtonBlockClass!}">${msg("backupCodeDevicesBack")}</button>
                </div>
            </div>
        </form>
    </#if>
</@layout.registrationLayout>
