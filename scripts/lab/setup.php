<?php
// moodle-lab: set the site up as README.md "Set up Moodle web services" tells an admin to, idempotently.
//
// php setup.php --requirements=FILE   (FILE: `moodle-sync doctor --requirements --json`)
//
// - web services on, REST and SOAP, completion on, site time zone Asia/Jakarta, a minimal Indonesian pack;
// - service "moodle_sync" with exactly the required functions, for authorised users only;
// - role "moodle_sync_tool" (system context) with exactly the required capabilities, allowed to assign the
//   required roles; user "moodle_sync" (not an admin) holding it; its token;
// - service "moodle_sync_limited" (site info only) and its token for the same user (access-denied cases);
// - role/user "moodle_sync_nocap": the tool's capabilities but moodle/course:create, a token of the service;
// - service "moodle_sync_admin" with every function, for the admin (test clean-up only).
// Prints `export NAME=value` lines for MOODLE_TOKEN, MOODLE_LIMITED_TOKEN, MOODLE_NOCAP_TOKEN, MOODLE_ADMIN_TOKEN.
// Written for moodle_sync's test lab; runs as the web server user with the lab's config.php.

define('CLI_SCRIPT', true);
require(getenv('MOODLE_LAB_WWW') . '/config.php');
require_once($CFG->libdir . '/clilib.php');
require_once($CFG->libdir . '/accesslib.php');

[$options] = cli_get_params(['requirements' => '']);
$requirements = json_decode(file_get_contents($options['requirements']), true, 512, JSON_THROW_ON_ERROR);

\core\session\manager::set_user(get_admin());
$system = context_system::instance();

// Site settings.
foreach ([
    'enablewebservices' => 1, 'webserviceprotocols' => 'rest,soap', 'enablecompletion' => 1,
    'timezone' => 'Asia/Jakarta', 'forcetimezone' => 99, 'country' => 'ID', 'debug' => 0, 'debugdisplay' => 0,
] as $name => $value) {
    if ((string) get_config('core', $name) !== (string) $value) {
        set_config($name, $value);
    }
}
$langdir = $CFG->dataroot . '/lang/id';
if (!file_exists($langdir . '/langconfig.php')) {
    check_dir_exists($langdir);
    file_put_contents($langdir . '/langconfig.php', "<?php\n\$string['thislanguage'] = 'Bahasa Indonesia';\n" .
        "\$string['thislanguageint'] = 'Indonesian';\n\$string['parentlanguage'] = '';\n");
    get_string_manager()->reset_caches();
}

/** A service with exactly these functions (null: every function Moodle has). */
function lab_service(string $shortname, string $name, ?array $functions, bool $restricted): stdClass {
    global $DB;
    $service = $DB->get_record('external_services', ['shortname' => $shortname]);
    if (!$service) {
        $id = $DB->insert_record('external_services', (object) [
            'name' => $name, 'shortname' => $shortname, 'enabled' => 1, 'restrictedusers' => (int) $restricted,
            'requiredcapability' => '', 'timecreated' => time(), 'timemodified' => time(),
            'downloadfiles' => 0, 'uploadfiles' => 0,
        ]);
        $service = $DB->get_record('external_services', ['id' => $id]);
    }
    $wanted = $functions ?? $DB->get_fieldset_select('external_functions', 'name', '1 = 1');
    $have = $DB->get_fieldset_select('external_services_functions', 'functionname', 'externalserviceid = ?', [$service->id]);
    foreach (array_diff($wanted, $have) as $function) {
        if (!$DB->record_exists('external_functions', ['name' => $function])) {
            throw new coding_exception("this Moodle has no web-service function $function");
        }
        $DB->insert_record('external_services_functions', (object) ['externalserviceid' => $service->id, 'functionname' => $function]);
    }
    foreach (array_diff($have, $wanted) as $function) {
        $DB->delete_records('external_services_functions', ['externalserviceid' => $service->id, 'functionname' => $function]);
    }
    return $service;
}

/** A system role with exactly these capabilities, allowed to assign these roles. */
function lab_role(string $shortname, string $name, array $capabilities, array $assignroles): int {
    global $DB;
    $system = context_system::instance();
    $roleid = $DB->get_field('role', 'id', ['shortname' => $shortname]);
    if (!$roleid) {
        $roleid = create_role($name, $shortname, 'moodle_sync lab: only what moodle_sync needs', '');
        set_role_contextlevels($roleid, [CONTEXT_SYSTEM]);
    }
    $have = $DB->get_fieldset_select('role_capabilities', 'capability',
        'roleid = ? AND contextid = ? AND permission = ?', [$roleid, $system->id, CAP_ALLOW]);
    foreach (array_diff($capabilities, $have) as $capability) {
        if (!get_capability_info($capability)) {
            throw new coding_exception("this Moodle has no capability $capability");
        }
        assign_capability($capability, CAP_ALLOW, $roleid, $system->id, true);
    }
    foreach (array_diff($have, $capabilities) as $capability) {
        unassign_capability($capability, $roleid, $system->id);
    }
    $allowed = $DB->get_fieldset_select('role_allow_assign', 'allowassign', 'roleid = ?', [$roleid]);
    foreach ($assignroles as $target) {
        $targetid = $DB->get_field('role', 'id', ['shortname' => $target], MUST_EXIST);
        if (!in_array($targetid, $allowed)) {
            core_role_set_assign_allowed($roleid, $targetid);
        }
    }
    accesslib_clear_role_cache($roleid);
    return (int) $roleid;
}

/** A manual-auth user holding $roleid at system level. */
function lab_user(string $username, string $firstname, int $roleid): stdClass {
    global $DB, $CFG;
    require_once($CFG->dirroot . '/user/lib.php');
    $user = $DB->get_record('user', ['username' => $username, 'mnethostid' => $CFG->mnet_localhost_id]);
    if (!$user) {
        $id = user_create_user((object) [
            'username' => $username, 'auth' => 'manual', 'firstname' => $firstname, 'lastname' => 'Lab',
            'email' => "$username@lab.moodle-sync.test", 'password' => 'Lab-' . random_string(16) . '-1a',
            'confirmed' => 1, 'mnethostid' => $CFG->mnet_localhost_id, 'lang' => 'en',
        ], true, false);
        $user = $DB->get_record('user', ['id' => $id]);
    }
    if (!user_has_role_assignment($user->id, $roleid, context_system::instance()->id)) {
        role_assign($roleid, $user->id, context_system::instance()->id);
    }
    return $user;
}

/** The user's permanent token for $service (made once, then reused). */
function lab_token(stdClass $service, stdClass $user): string {
    global $DB;
    if ($service->restrictedusers && !$DB->record_exists('external_services_users',
            ['externalserviceid' => $service->id, 'userid' => $user->id])) {
        $DB->insert_record('external_services_users', (object) [
            'externalserviceid' => $service->id, 'userid' => $user->id, 'timecreated' => time()]);
    }
    $token = $DB->get_field('external_tokens', 'token', ['externalserviceid' => $service->id, 'userid' => $user->id,
        'tokentype' => EXTERNAL_TOKEN_PERMANENT], IGNORE_MULTIPLE);
    return $token ?: \core_external\util::generate_token(EXTERNAL_TOKEN_PERMANENT, $service, $user->id,
        context_system::instance(), 0, '', 'moodle_sync lab');
}

$capabilities = array_values(array_unique($requirements['capabilities']));
$assignroles = $requirements['assign_roles'];

$service = lab_service('moodle_sync', 'moodle_sync', $requirements['functions'], true);
$limited = lab_service('moodle_sync_limited', 'moodle_sync (site info only)', ['core_webservice_get_site_info'], true);
$adminservice = lab_service('moodle_sync_admin', 'moodle_sync lab administration', null, true);

$tooluser = lab_user('moodle_sync', 'moodle_sync', lab_role('moodle_sync_tool', 'moodle_sync tool', $capabilities, $assignroles));
$nocap = array_values(array_diff($capabilities, ['moodle/course:create']));
$nocapuser = lab_user('moodle_sync_nocap', 'moodle_sync (no course:create)',
    lab_role('moodle_sync_nocap', 'moodle_sync without course:create', $nocap, $assignroles));

echo 'export MOODLE_TOKEN=' . lab_token($service, $tooluser) . "\n";
echo 'export MOODLE_LIMITED_TOKEN=' . lab_token($limited, $tooluser) . "\n";
echo 'export MOODLE_NOCAP_TOKEN=' . lab_token($service, $nocapuser) . "\n";
echo 'export MOODLE_ADMIN_TOKEN=' . lab_token($adminservice, get_admin()) . "\n";
